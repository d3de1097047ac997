"""The data migration re-keys old per-file git leak findings to one finding per (secret, bot):
collapsed findings keep the most significant triage and the earliest first_seen, the audit log
keeps every entry (plus a merge record), and a later audit updates the same finding."""

from datetime import timedelta

import pytest
from django.utils import timezone

from scanners.git.checks import aws_leak_subject, leak_subject
from scanners.redaction import secret_fingerprint
from scanners.services.findings import finding_fingerprint
from tests.migrations_helpers import back_to_latest, migrate, migrate_latest  # noqa: F401 (autouse fixture)
from tests.scanners.git.gitrepo import Repo, github_pat

BEFORE = [("scanners", "0004_git_leak_confidence"), ("inventory", "0001_initial")]  # the inventory of that time
AFTER = [("scanners", "0005_git_findings_per_secret")]
SFP = "a1" * 32
OTHER = "b2" * 32
ARN = "arn:aws:iam::123456789012:user/legacy-sync"


def old_evidence(*, repo, file, sfp=SFP, at_head=False, **extra):
    return {"repository": repo, "file": file, "line": 3, "rule_id": "github-pat", "commit": "c" * 40,
            "commit_date": "2026-01-05T10:00:00+00:00", "still_at_head": at_head, "redacted": "ghp_\u2026(40)",
            "secret_fingerprint": sfp, **extra}


@pytest.mark.django_db(transaction=True)
def test_old_findings_collapse_keeping_triage_and_history():
    apps = migrate(BEFORE)
    Team, Bot = apps.get_model("inventory", "Team"), apps.get_model("inventory", "Bot")
    Repository, AuditLogEntry = apps.get_model("inventory", "Repository"), apps.get_model("inventory", "AuditLogEntry")
    Finding, User = apps.get_model("scanners", "Finding"), apps.get_model("auth", "User")
    team = Team.objects.create(name="payments", slug="payments")
    bot = Bot.objects.create(name="invoice-bot", slug="invoice-bot", team=team)
    other_bot = Bot.objects.create(name="billing-bot", slug="billing-bot", team=team)
    api = Repository.objects.create(name="payments-api", url="/x")
    Repository.objects.create(name="billing", url="/y")
    auditor = User.objects.create(username="auditor")
    now = timezone.now()

    def old(subject, *, bot_=bot, status="open", days=0, check_id="git.secret.leaked", **ev):
        f = Finding.objects.create(
            check_id=check_id, severity="high", category="leak", title="t", bot=bot_, subject=subject,
            evidence=old_evidence(**ev), scope="connector:1", fingerprint=finding_fingerprint(
                check_id=check_id, subject=subject), status=status, first_seen=now - timedelta(days=days),
            last_seen=now - timedelta(days=days), status_reason="" if status == "open" else f"{status} by hand",
            status_changed_by=auditor if status != "open" else None)
        if status != "open":
            AuditLogEntry.objects.create(user=auditor, action=f"finding.{status}", target=str(f.pk),
                                         detail={"finding_ids": [f.pk], "reason": f"{status} by hand"})
        return f

    # one secret, three files, two repositories, on invoice-bot: one false positive among them
    a = old(f"git:payments-api:github-pat:app.py:{SFP[:24]}@invoice-bot", repo="payments-api", file="app.py",
            days=30)
    b = old(f"git:payments-api:github-pat:ci.yml:{SFP[:24]}@invoice-bot", repo="payments-api", file="ci.yml",
            status="false_positive", days=5, at_head=True)
    c = old(f"git:billing:github-pat:x.py:{SFP[:24]}@invoice-bot", repo="billing", file="x.py", status="acknowledged",
            days=10)
    # the same secret on another bot stays a separate finding; another secret stays separate too
    d = old(f"git:billing:github-pat:x.py:{SFP[:24]}@billing-bot", bot_=other_bot, repo="billing", file="x.py",
            status="acknowledged", days=2)
    e = old(f"git:payments-api:github-pat:z.py:{OTHER[:24]}@invoice-bot", repo="payments-api", file="z.py",
            sfp=OTHER, status="resolved", days=1)
    # the AWS cross-reference: two files of one active key
    g = old(f"git-aws:payments-api:deploy.sh:{SFP[:24]}", check_id="git.secret.leaked_active_aws_key",
            repo="payments-api", file="deploy.sh", iam_user=ARN, days=7)
    h = old(f"git-aws:payments-api:old.sh:{SFP[:24]}", check_id="git.secret.leaked_active_aws_key",
            repo="payments-api", file="old.sh", iam_user=ARN, status="acknowledged", days=3)
    log_before = set(AuditLogEntry.objects.values_list("pk", flat=True))

    apps = migrate(AFTER)
    Finding, AuditLogEntry = apps.get_model("scanners", "Finding"), apps.get_model("inventory", "AuditLogEntry")
    leaked = {(f.bot_id, f.evidence["secret_fingerprint"]): f
              for f in Finding.objects.filter(check_id="git.secret.leaked")}
    assert set(leaked) == {(bot.pk, SFP), (other_bot.pk, SFP), (bot.pk, OTHER)}
    one = leaked[(bot.pk, SFP)]
    assert one.pk == b.pk and one.status == "false_positive" and one.status_reason == "false_positive by hand"
    assert one.first_seen == a.first_seen and one.last_seen == b.last_seen and one.severity == "high"
    assert one.subject == leak_subject(secret_fingerprint=SFP, bot_id=bot.pk)
    assert one.fingerprint == finding_fingerprint(check_id="git.secret.leaked", subject=one.subject)
    ev = one.evidence
    assert ev["location_count"] == 3 and ev["still_at_head"] is True
    assert ev["repositories"] == ["billing", "payments-api"]
    assert {(x["repository"], x["file"]) for x in ev["locations"]} == {("payments-api", "app.py"),
                                                                       ("payments-api", "ci.yml"), ("billing", "x.py")}
    assert api.pk in ev["repository_ids"]
    assert (leaked[(other_bot.pk, SFP)].pk, leaked[(other_bot.pk, SFP)].status) == (d.pk, "acknowledged")
    assert (leaked[(bot.pk, OTHER)].pk, leaked[(bot.pk, OTHER)].status) == (e.pk, "resolved")
    (aws,) = Finding.objects.filter(check_id="git.secret.leaked_active_aws_key")
    assert aws.pk == h.pk and aws.status == "acknowledged" and aws.first_seen == g.first_seen
    assert aws.subject == aws_leak_subject(secret_fingerprint=SFP, user_arn=ARN)
    assert aws.evidence["iam_user"] == ARN and aws.evidence["location_count"] == 2
    # the audit log keeps every entry, plus one merge record per collapse naming what was merged
    assert log_before <= set(AuditLogEntry.objects.values_list("pk", flat=True))
    merges = {m.detail["into"]: m.detail for m in AuditLogEntry.objects.filter(action="finding.merge")}
    assert set(merges) == {b.pk, h.pk}
    assert {(m["id"], m["status"]) for m in merges[b.pk]["merged"]} == {(a.pk, "open"), (c.pk, "acknowledged")}
    assert {m["status_reason"] for m in merges[b.pk]["merged"]} == {"", "acknowledged by hand"}
    assert Finding.objects.count() == 7 - 3  # a and c merged into b, g into h


@pytest.mark.django_db(transaction=True)
def test_after_the_migration_an_audit_updates_the_rekeyed_finding(tmp_path):
    from inventory.models import Connector
    from scanners.models import Finding as LiveFinding
    from scanners.services.audit import audit_run_in_process

    pat = github_pat()
    repo = Repo(tmp_path / "payments-api")
    repo.commit({"app.py": f"T = '{pat}'\n", "ci.yml": f"t: {pat}\n"})
    apps = migrate(BEFORE)
    Team, Bot = apps.get_model("inventory", "Team"), apps.get_model("inventory", "Bot")
    Repository, Finding = apps.get_model("inventory", "Repository"), apps.get_model("scanners", "Finding")
    bot = Bot.objects.create(name="invoice-bot", slug="invoice-bot", team=Team.objects.create(name="p", slug="p"))
    bot.repositories.add(Repository.objects.create(name="payments-api", url=str(repo.path), branches=["*"]))
    sfp, now = secret_fingerprint(pat), timezone.now() - timedelta(days=40)
    for file, status in (("app.py", "false_positive"), ("ci.yml", "open")):
        subject = f"git:payments-api:github-pat:{file}:{sfp[:24]}@invoice-bot"
        Finding.objects.create(
            check_id="git.secret.leaked", severity="critical", category="leak", title="t", bot=bot, subject=subject,
            evidence=old_evidence(repo="payments-api", file=file, sfp=sfp), scope="connector:0", status=status,
            fingerprint=finding_fingerprint(check_id="git.secret.leaked", subject=subject), first_seen=now,
            last_seen=now, status_reason="test fixture" if status != "open" else "")
    migrate(AFTER)
    migrate_latest()  # the live audit below needs the live models' schema
    Connector.objects.create(name="git", kind="git", options={"repositories": ["*"]})
    probe = audit_run_in_process(connector_names=["git"]).probe_runs.get(kind="git")
    assert probe.status == "ok", probe.error
    (f,) = LiveFinding.objects.filter(check_id="git.secret.leaked")
    assert f.status == "false_positive" and f.status_reason == "test fixture" and f.first_seen == now
    assert f.evidence["location_count"] == 2 and f.last_probe_run_id == probe.pk
