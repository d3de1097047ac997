"""The git probe through the real audit pipeline: attribution to bots, severity from the tip,
incremental runs that keep earlier findings open, partial scans, the AWS cross-reference."""

import json
import os

import boto3
import pytest
from moto.server import ThreadedMotoServer

from inventory.models import Connector, Repository
from scanners.git.models import GitLeakRecord, GitScanState
from scanners.models import AuditRun, Finding, ProbeRun
from scanners.redaction import redact, secret_fingerprint
from scanners.services.audit import audit_run_in_process
from tests.scanners.git.gitrepo import Repo, aws_key_id, github_pat, stripe_live

LEAKED = "git.secret.leaked"
ACTIVE_AWS = "git.secret.leaked_active_aws_key"


@pytest.fixture
def fleet(db, make_bot, tmp_path):
    repo = Repo(tmp_path / "payments-api")
    repository = Repository.objects.create(name="payments-api", url=str(repo.path), branches=["*"])
    bot = make_bot("invoice-bot")
    bot.repositories.add(repository)
    Connector.objects.create(name="git", kind="git", options={"repositories": ["*"]})
    return repo, bot, repository


def audit():
    run = audit_run_in_process(connector_names=["git"])
    return run.probe_runs.get(kind="git")


def findings(check=LEAKED):
    """{file of the first location: finding}, for leaks found in one place each."""
    return {f.evidence["locations"][0]["file"]: f for f in Finding.objects.filter(check_id=check)}


def test_leaks_become_findings_on_the_repository_bot(fleet):
    repo, bot, _ = fleet
    pat, stripe = github_pat(), stripe_live()
    repo.commit({"app.py": f"TOKEN = '{pat}'\n", "billing.py": f"S = '{stripe}'\n"})
    repo.commit({"billing.py": "S = os.environ['S']\n"})
    probe = audit()
    assert probe.status == ProbeRun.Status.OK, probe.error
    found = findings()
    assert set(found) == {"app.py", "billing.py"}
    assert found["app.py"].severity == "critical" and found["billing.py"].severity == "high"
    assert all(f.bot_id == bot.pk and f.owasp_nhi == "NHI2" for f in found.values())
    ev = found["app.py"].evidence
    (loc,) = ev["locations"]
    assert ev["repositories"] == ["payments-api"] and ev["still_at_head"] is True and ev["location_count"] == 1
    assert loc["repository"] == "payments-api" and loc["line"] == 1 and loc["still_at_head"] is True
    assert ev["redacted"] == "ghp_\u2026(40)" and len(loc["commit"]) == 40 and loc["confidence"] == "high"
    assert found["app.py"].subject == f"git:secret:{secret_fingerprint(pat)[:24]}@bot:{bot.pk}"
    # the canary values appear in no stored output
    stored = json.dumps([list(Finding.objects.values()), list(ProbeRun.objects.values()),
                         list(GitLeakRecord.objects.values()), list(GitScanState.objects.values())], default=str)
    assert pat not in stored and stripe not in stored


def test_incremental_runs_keep_earlier_findings_open(fleet):
    repo, _, _ = fleet
    repo.commit({"a.py": f"K = '{aws_key_id()}'\n"})
    for i in range(30):
        repo.commit({f"f{i}.py": f"x = {i}\n"})
    first = audit()
    assert first.counts["commits"] == 31 and first.counts["findings"] == 1
    repo.commit({"b.py": f"T = '{github_pat()}'\n"})
    second = audit()
    assert second.status == ProbeRun.Status.OK
    assert second.counts["commits"] == 1  # only the new commit was walked
    assert second.counts["resolved"] == 0
    assert {f: x.status for f, x in findings().items()} == {"a.py": "open", "b.py": "open"}
    # removing the secret from the tip lowers the severity, but the leak stays (history)
    repo.commit({"b.py": None})
    audit()
    assert findings()["b.py"].severity == "high" and findings()["b.py"].status == "open"
    # nothing new at all: the run is ok and resolves nothing
    assert audit().counts["resolved"] == 0
    assert GitScanState.objects.get().commits_scanned == 33


def test_corrupted_object_makes_the_probe_partial(fleet):
    repo, _, _ = fleet
    repo.commit({"a.py": f"K = '{aws_key_id()}'\n"})
    audit()
    tips_before = GitScanState.objects.get().tips
    content = b"will be corrupted\n"
    bad = repo.repo.create_blob(content)
    repo.commit({"bad.py": content})
    path = os.path.join(repo.repo.path, "objects", str(bad)[:2], str(bad)[2:])
    os.chmod(path, 0o644)
    with open(path, "wb") as fh:
        fh.write(b"\x78\x9cbroken")
    probe = audit()
    assert probe.status == ProbeRun.Status.PARTIAL and str(bad) in probe.error and "payments-api" in probe.error
    assert findings()["a.py"].status == "open"
    assert GitScanState.objects.get().tips == tips_before  # retried from the last complete scan


def test_missing_and_unknown_repositories(fleet, db):
    _, _, repository = fleet
    repository.url = "/nonexistent/path/repo"
    repository.save()
    probe = audit()  # its own unit: a repository that cannot be opened fails that unit
    assert probe.status == ProbeRun.Status.FAILED and "repository payments-api" in probe.error
    Connector.objects.filter(name="git").update(options={"repositories": ["nope"]})
    probe = audit()
    assert probe.status == ProbeRun.Status.FAILED and "unknown repositories: nope" in probe.error


def publish_aws_facts(active: dict) -> None:
    run = AuditRun.objects.create(status=AuditRun.Status.OK)
    ProbeRun.objects.create(audit_run=run, kind="aws", scope="connector:aws", status=ProbeRun.Status.OK,
                            facts={"active_access_keys": active}, finished=run.started)


def test_leaked_active_aws_key_is_critical_on_the_key_owner(fleet, make_bot):
    repo, repo_bot, _ = fleet
    owner = make_bot("legacy-sync-bot")
    active_key, inactive_key = aws_key_id(), aws_key_id()
    user = "arn:aws:iam::123456789012:user/legacy-sync"
    publish_aws_facts({secret_fingerprint(active_key): {"bot_id": owner.pk, "user": user,
                                                        "redacted": redact(active_key)}})
    repo.commit({"deploy.sh": f"export AWS_ACCESS_KEY_ID={active_key}\n", "old.sh": f"K={inactive_key}\n"})
    audit()
    (hit,) = Finding.objects.filter(check_id=ACTIVE_AWS)
    assert hit.bot_id == owner.pk and hit.severity == "critical"
    (loc,) = hit.evidence["locations"]
    assert loc["repository"] == "payments-api" and loc["file"] == "deploy.sh"
    assert hit.evidence["iam_user"] == user and len(loc["commit"]) == 40
    assert hit.subject == f"git-aws:{secret_fingerprint(active_key)[:24]}:{user}"
    assert user in hit.title and active_key not in json.dumps(hit.evidence) + hit.title
    assert {f.bot_id for f in findings().values()} == {repo_bot.pk}  # the plain leaks stay on the repo's bot


def test_leaked_active_aws_key_from_moto(fleet, make_bot):
    repo, _, _ = fleet
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        iam = boto3.client("iam", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")  # noqa: S106
        user = iam.create_user(UserName="etl-loader")["User"]
        key_id = iam.create_access_key(UserName="etl-loader")["AccessKey"]["AccessKeyId"]
        active = {
            secret_fingerprint(k["AccessKeyId"]): {"bot_id": None, "user": user["Arn"],
                                                   "redacted": redact(k["AccessKeyId"])}
            for k in iam.list_access_keys(UserName="etl-loader")["AccessKeyMetadata"] if k["Status"] == "Active"
        }
    finally:
        server.stop()
    owner = make_bot("etl-loader")
    for entry in active.values():
        entry["bot_id"] = owner.pk
    publish_aws_facts(active)
    repo.commit({"etl/.env": f"AWS_ACCESS_KEY_ID={key_id}\n"})
    audit()
    (hit,) = Finding.objects.filter(check_id=ACTIVE_AWS)
    assert hit.bot_id == owner.pk and hit.evidence["iam_user"] == user["Arn"]
