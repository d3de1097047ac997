"""One finding per secret: the same secret in several files, commits and repositories is one leak
with every location, on each bot that owns any of those repositories; subjects survive renames;
triage covers every location; low confidence is info (not scored); a failing repository keeps its
recorded locations."""

import json

import pytest

from inventory.models import Connector, Repository
from scanners.git.checks import leak_subject, secret_leaked
from scanners.git.leaks import LeakLocation, SecretLeak
from scanners.git.models import GitLeakRecord
from scanners.models import BotScore, Finding, ProbeRun
from scanners.redaction import secret_fingerprint
from scanners.services.audit import audit_run_in_process
from scanners.services.findings import findings_triage
from tests.helpers import units_rollup
from tests.scanners.git.gitrepo import Repo, github_pat, stripe_live

LEAKED = "git.secret.leaked"


@pytest.fixture
def two_repos(db, make_bot, tmp_path):
    """payments-api (invoice-bot), billing-worker (billing-bot), and an unowned scratch repository."""
    repos = {}
    for name in ("payments-api", "billing-worker", "scratch"):
        repos[name] = Repo(tmp_path / name)
        Repository.objects.create(name=name, url=str(repos[name].path), branches=["*"])
    invoice, billing = make_bot("invoice-bot"), make_bot("billing-bot")
    invoice.repositories.add(Repository.objects.get(name="payments-api"))
    billing.repositories.add(Repository.objects.get(name="billing-worker"))
    Connector.objects.create(name="git", kind="git", options={"repositories": ["*"]})
    return repos, invoice, billing


def audit():
    run = audit_run_in_process(connector_names=["git"])
    return units_rollup(run, "git")  # one unit per repository


def leak_findings(secret):
    fp = secret_fingerprint(secret)
    return {f.bot_id: f for f in Finding.objects.filter(check_id=LEAKED) if f.evidence["secret_fingerprint"] == fp}


def test_same_secret_everywhere_is_one_leak_per_owning_bot(two_repos):
    repos, invoice, billing = two_repos
    pat, other = github_pat(), stripe_live()
    repos["payments-api"].commit({"app.py": f"T = '{pat}'\n"})
    repos["payments-api"].commit({"deploy/env.sh": f"export T={pat}\n", "app.py": "T = env()\n"})
    repos["billing-worker"].commit({"ci.yml": f"token: {pat}\n", "other.py": f"S = '{other}'\n"})
    repos["scratch"].commit({"notes.txt": f"{pat}\n"})
    probe = audit()
    assert probe.status == ProbeRun.Status.OK, probe.error
    found = leak_findings(pat)
    assert set(found) == {invoice.pk, billing.pk}  # the unowned scratch repo adds no bot-less duplicate
    assert Finding.objects.filter(check_id=LEAKED).count() == 3  # + the stripe key, on billing-bot only
    fp = secret_fingerprint(pat)
    for bot_id, f in found.items():
        assert f.subject == f"git:secret:{fp[:24]}@bot:{bot_id}" and f.severity == "critical"
        ev = f.evidence
        assert ev["location_count"] == 4 and ev["repositories"] == ["billing-worker", "payments-api", "scratch"]
        where = {(loc["repository"], loc["file"], loc["still_at_head"]) for loc in ev["locations"]}
        assert where == {("payments-api", "app.py", False), ("payments-api", "deploy/env.sh", True),
                         ("billing-worker", "ci.yml", True), ("scratch", "notes.txt", True)}
        assert {loc["repository_id"] for loc in ev["locations"]} == set(ev["repository_ids"])
        assert all(len(loc["commit"]) == 40 and loc["commit_date"] and loc["first_seen"] for loc in ev["locations"])
        assert "4 places in 3 repositories" in f.title
    stored = json.dumps([list(Finding.objects.values()), list(GitLeakRecord.objects.values())], default=str)
    assert pat not in stored and other not in stored


def test_history_only_everywhere_is_high_and_unowned_is_one_botless_finding(two_repos):
    repos, _, _ = two_repos
    pat = github_pat()
    repos["scratch"].commit({"a.py": f"T = '{pat}'\n", "b.py": f"U = '{pat}'\n"})
    repos["scratch"].commit({"a.py": None, "b.py": None})
    audit()
    (f,) = Finding.objects.filter(check_id=LEAKED)
    assert f.bot_id is None and f.subject == leak_subject(secret_fingerprint=secret_fingerprint(pat), bot_id=None)
    assert f.severity == "high" and f.evidence["location_count"] == 2 and f.evidence["still_at_head"] is False


def leak_triaged(repos, bot, users, *, file, action, reason):
    """(secret, its finding on `bot`) after one audit and a triage by an auditor."""
    pat = github_pat()
    repos["payments-api"].commit({file: f"T = '{pat}'\n"})
    audit()
    f = leak_findings(pat)[bot.pk]
    findings_triage(finding_ids=[f.pk], action=action, user=users.objects.create_user("aud@example.com"),
                    reason=reason)
    return pat, f


def test_triage_covers_every_location_and_new_locations(two_repos, django_user_model):
    repos, invoice, _ = two_repos
    pat, f = leak_triaged(repos, invoice, django_user_model, file="tests/fixture.py", action="false_positive",
                          reason="fixture token, revoked")
    repos["payments-api"].commit({"tests/other_fixture.py": f"T = '{pat}'\n"})
    repos["billing-worker"].commit({"docs/example.md": f"{pat}\n"})
    probe = audit()
    assert probe.counts["resolved"] == 0
    again = leak_findings(pat)
    assert again[invoice.pk].pk == f.pk and again[invoice.pk].status == Finding.Status.FALSE_POSITIVE
    assert again[invoice.pk].evidence["location_count"] == 3
    assert again[invoice.pk].status_reason == "fixture token, revoked"
    # the bot that owns the newly leaking repository gets its own (open) finding for the same secret
    assert [x.status for b, x in again.items() if b != invoice.pk] == [Finding.Status.OPEN]


def test_renaming_bot_and_repository_keeps_findings_and_triage(two_repos, django_user_model):
    repos, invoice, _ = two_repos
    _, f = leak_triaged(repos, invoice, django_user_model, file="app.py", action="acknowledge",
                        reason="rotation ticket SEC-9")
    invoice.name, invoice.slug = "invoicing-bot", "invoicing-bot"
    invoice.save()
    Repository.objects.filter(name="payments-api").update(name="payments-service")
    Connector.objects.filter(name="git").update(name="git-renamed")
    run = audit_run_in_process(connector_names=["git-renamed"])
    probe = units_rollup(run, "git")
    assert probe.status == ProbeRun.Status.OK and probe.counts["commits"] == 0  # scan state kept too
    (after,) = Finding.objects.filter(check_id=LEAKED)
    assert (after.pk, after.fingerprint, after.status) == (f.pk, f.fingerprint, Finding.Status.ACKNOWLEDGED)
    assert after.evidence["repositories"] == ["payments-service"]


def test_low_confidence_is_info_and_not_scored(two_repos):
    repos, invoice, _ = two_repos
    pat = github_pat()
    repos["payments-api"].commit({"docs/example.md": f"T = '{pat}'\n"})
    audit()
    assert leak_findings(pat)[invoice.pk].severity == "critical"
    GitLeakRecord.objects.update(confidence="low", reasons=["docs path"])  # as the detector would judge it
    run = audit_run_in_process(connector_names=["git"])
    f = leak_findings(pat)[invoice.pk]
    assert f.severity == "info" and f.evidence["confidence"] == "low" and f.evidence["reasons"] == ["docs path"]
    assert f.evidence["locations"][0]["reasons"] == ["docs path"]
    assert BotScore.objects.get(bot=invoice, audit_run=run).score == 0


def _loc(*, confidence, still_at_head=False, file="a.py"):
    return LeakLocation(repository_id=1, repository="r", rule_id="generic-api-key", file=file, line=1,
                        commit="c" * 40, commit_date="2026-01-01T00:00:00+00:00", first_seen="2026-01-02",
                        still_at_head=still_at_head, confidence=confidence, reasons=(), redacted="abcd\u2026(20)")


@pytest.mark.parametrize(("confidences", "at_tip", "severity"), [
    (["low"], True, "info"),
    (["low", "low"], False, "info"),
    (["low", "medium"], True, "critical"),  # the best location decides
    (["medium"], False, "high"),
    (["high", "low"], False, "high"),
])
def test_severity_from_best_confidence_and_tip(confidences, at_tip, severity):
    from scanners.context import Fleet

    locs = [_loc(confidence=c, file=f"f{i}.py", still_at_head=at_tip and i == 0) for i, c in enumerate(confidences)]
    ctx = type("Ctx", (), {"fleet": Fleet(bots={}, credentials=[], identities=[])})()
    (hit,) = secret_leaked([SecretLeak(secret_fingerprint="f" * 64, locations=tuple(locs))], ctx)
    assert hit.severity == severity and hit.bot_id is None


def test_a_failing_repository_keeps_its_recorded_locations(two_repos):
    repos, invoice, billing = two_repos
    pat = github_pat()
    repos["payments-api"].commit({"app.py": f"T = '{pat}'\n"})
    repos["billing-worker"].commit({"ci.yml": f"token: {pat}\n"})
    audit()
    Repository.objects.filter(name="billing-worker").update(url="/nonexistent/billing-worker")
    repos["payments-api"].commit({"more.py": f"T2 = '{pat}'\n"})
    probe = audit()
    assert probe.status == ProbeRun.Status.PARTIAL and "repository billing-worker" in probe.error
    (failed,) = [u for u in probe.units if u.status == ProbeRun.Status.FAILED]  # that unit alone
    assert failed.unit == "billing-worker" and failed.counts.get("resolved") is None
    found = leak_findings(pat)
    assert set(found) == {invoice.pk, billing.pk}
    for f in found.values():
        assert f.status == Finding.Status.OPEN and f.evidence["location_count"] == 3
        assert ("billing-worker", "ci.yml") in {(x["repository"], x["file"]) for x in f.evidence["locations"]}


def test_two_connectors_on_one_repository_count_each_location_once(two_repos):
    repos, invoice, _ = two_repos
    pat = github_pat()
    repos["payments-api"].commit({"app.py": f"T = '{pat}'\n"})
    Connector.objects.create(name="git-2", kind="git", options={"repositories": ["payments-api"]})
    audit_run_in_process(connector_names=["git", "git-2"])
    (f,) = Finding.objects.filter(check_id=LEAKED)
    assert f.bot_id == invoice.pk and f.evidence["location_count"] == 1


def test_detector_confidence_reaches_the_finding(two_repos):
    """Through the real detector: a password in a docs example URL on localhost is low confidence
    (info, not scored); the same password later in code against a real host makes the leak medium."""
    repos, invoice, _ = two_repos
    password = "Zq8vN3kLp2Wx7Rt"
    repos["payments-api"].commit({"docs/setup.md": f"DATABASE_URL=postgresql://app:{password}@localhost:5432/app\n"})
    run = audit_run_in_process(connector_names=["git"])
    (f,) = Finding.objects.filter(check_id=LEAKED)
    assert f.evidence["confidence"] == "low" and f.severity == "info", f.evidence
    assert "placeholder host" in f.evidence["reasons"] and f.evidence["locations"][0]["confidence"] == "low"
    assert BotScore.objects.get(bot=invoice, audit_run=run).score == 0
    repos["payments-api"].commit({"app/db.py": f"URL = 'postgresql://app:{password}@db.internal.corp:5432/app'\n"})
    audit()
    f.refresh_from_db()
    assert f.evidence["location_count"] == 2 and f.evidence["confidence"] == "medium" and f.severity == "critical"
    assert password not in json.dumps(f.evidence) + f.title
