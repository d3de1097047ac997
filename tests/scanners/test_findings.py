import pytest

from scanners.models import Finding, ProbeRun
from scanners.registry import Hit, ProbeError, ProbeUnavailable
from scanners.services.audit import audit_run_in_process
from scanners.services.findings import finding_fingerprint, finding_upsert, findings_triage
from tests.scanners.conftest import thing_bad

pytestmark = pytest.mark.django_db


def _audit(connector_names=("test-conn",)):
    return audit_run_in_process(connector_names=list(connector_names))


def test_fingerprint_is_check_plus_subject_only():
    a = finding_fingerprint(check_id="x.y", subject="s")
    assert a == finding_fingerprint(check_id="x.y", subject="s")
    assert a != finding_fingerprint(check_id="x.z", subject="s")
    assert a != finding_fingerprint(check_id="x.y", subject="t")


def test_upsert_is_idempotent(make_bot):
    bot = make_bot("b1")
    first = finding_upsert(check=thing_bad, hit=Hit(subject="s1", bot_id=bot.pk), scope="sc")
    again = finding_upsert(check=thing_bad, hit=Hit(subject="s1", bot_id=bot.pk, evidence={"n": 2}), scope="sc")
    assert Finding.objects.count() == 1
    assert again.pk == first.pk
    assert again.first_seen == first.first_seen
    assert again.last_seen >= first.last_seen
    assert again.evidence == {"n": 2}
    assert again.severity == "high" and again.owasp_nhi == "NHI7" and again.remediation == "Fix it."


def test_severity_override_from_hit():
    f = finding_upsert(check=thing_bad, hit=Hit(subject="s", severity="critical"), scope="sc")
    assert f.severity == "critical"


def test_reconcile_resolves_unseen_after_ok_probe(test_connector, make_bot, test_probe):
    bot = make_bot("b1")
    b = test_probe
    b.subjects = [("a", bot.pk), ("b", bot.pk)]
    _audit()
    assert Finding.objects.filter(check_id="testprobe.thing.bad", status="open").count() == 2
    b.subjects = [("a", bot.pk)]
    run = _audit()
    gone = Finding.objects.get(subject="b")
    assert gone.status == "resolved" and gone.resolved_at is not None
    assert f"audit #{run.pk}" in gone.status_reason
    assert Finding.objects.get(subject="a").status == "open"


def test_failed_probe_keeps_findings_open(test_connector, make_bot, test_probe):
    bot = make_bot("b1")
    test_probe.subjects = [("a", bot.pk)]
    _audit()
    test_probe.error = ProbeError("store unreachable at http://127.0.0.1:1")
    run = _audit()
    probe = run.probe_runs.get(kind="testprobe")
    assert probe.status == ProbeRun.Status.FAILED
    assert "store unreachable at http://127.0.0.1:1" in probe.error and "test-conn" in probe.error
    assert Finding.objects.get(subject="a").status == "open"
    assert run.status == "partial"  # the inventory probe still ran


def test_partial_probe_resolves_nothing(test_connector, make_bot, test_probe):
    bot = make_bot("b1")
    test_probe.subjects = [("a", bot.pk), ("b", bot.pk)]
    _audit()
    test_probe.subjects = [("a", bot.pk)]
    test_probe.partial = ["AccessDenied on ListThings"]
    run = _audit()
    assert run.probe_runs.get(kind="testprobe").status == "partial"
    assert Finding.objects.get(subject="b").status == "open"


def test_unexpected_crash_fails_probe_not_audit(test_connector, make_bot, test_probe):
    test_probe.error = RuntimeError("boom")
    run = _audit()
    probe = run.probe_runs.get(kind="testprobe")
    assert probe.status == "failed" and "RuntimeError: boom" in probe.error
    assert run.finished is not None


def test_unavailable_in_process_marks_failed(test_connector, test_probe):
    test_probe.error = ProbeUnavailable("connection refused")
    run = _audit()
    assert run.probe_runs.get(kind="testprobe").status == "failed"


def test_false_positive_stays_false_positive_and_resolved_reopens(
    test_connector, make_bot, test_probe, django_user_model
):
    bot = make_bot("b1")
    user = django_user_model.objects.create(username="aud")
    test_probe.subjects = [("fp", bot.pk), ("gone", bot.pk)]
    _audit()
    fp = Finding.objects.get(subject="fp")
    findings_triage(finding_ids=[fp.pk], action="false_positive", user=user, reason="test fixture key")
    test_probe.subjects = [("fp", bot.pk)]
    _audit()
    assert Finding.objects.get(subject="gone").status == "resolved"
    test_probe.subjects = []
    _audit()
    assert Finding.objects.get(subject="fp").status == "false_positive"  # not resolved by reconcile
    test_probe.subjects = [("fp", bot.pk), ("gone", bot.pk)]
    _audit()
    assert Finding.objects.get(subject="fp").status == "false_positive"
    reopened = Finding.objects.get(subject="gone")
    assert reopened.status == "open" and reopened.resolved_at is None and reopened.status_reason == "seen again"


def test_triage_requires_reason_and_is_logged(make_bot, django_user_model):
    from inventory.models import AuditLogEntry

    user = django_user_model.objects.create(username="aud")
    f = finding_upsert(check=thing_bad, hit=Hit(subject="s"), scope="sc")
    with pytest.raises(ValueError, match="reason"):
        findings_triage(finding_ids=[f.pk], action="acknowledge", user=user, reason=" ")
    findings_triage(finding_ids=[f.pk], action="acknowledge", user=user, reason="known, ticket SEC-1")
    f.refresh_from_db()
    assert f.status == "acknowledged" and f.status_changed_by == user
    entry = AuditLogEntry.objects.get(action="finding.acknowledge")
    assert entry.user == user and entry.detail["finding_ids"] == [f.pk]


def test_unique_fingerprint_enforced_by_database():
    from django.db import IntegrityError
    from django.utils import timezone

    now = timezone.now()
    kw = dict(check_id="inventory.bot.no_owner", severity="medium", category="inventory_gap", title="t", subject="s",
              scope="x", fingerprint="f" * 64, first_seen=now, last_seen=now)  # bypasses the upsert on purpose
    Finding.objects.create(**kw)
    with pytest.raises(IntegrityError):
        Finding.objects.create(**kw)


def test_probe_credential_facts_recorded(test_connector, test_probe, make_bot, make_credential, monkeypatch):
    from datetime import UTC, datetime

    import tests.scanners.conftest as c
    from scanners.registry import Collected

    bot = make_bot("b1")
    cred = make_credential(bot, "k")
    when = datetime(2026, 1, 2, tzinfo=UTC)
    monkeypatch.setattr(c, "collect", lambda connector, ctx: Collected(
        observations=[], credential_facts={cred.pk: {"created_at": when, "last_rotated_at": when}}))
    from scanners import registry

    registry.register(registry.ProbeKind(kind="testprobe", collect=c.collect, checks=[c.thing_bad]))
    _audit()
    cred.refresh_from_db()
    assert cred.created_at == when and cred.last_rotated_at == when and cred.observed_at is not None
    assert cred.last_used_at is None


def test_redelivered_probe_past_time_limit_is_failed_not_rerun(test_connector, test_probe, make_bot, settings):
    from datetime import timedelta

    from django.utils import timezone

    from scanners.services.audit import audit_run_start, probe_run_execute

    bot = make_bot("b1")
    test_probe.subjects = [("a", bot.pk)]
    run = audit_run_start(connector_names=["test-conn"])
    probe = run.probe_runs.get(kind="testprobe")
    probe.status = ProbeRun.Status.RUNNING  # its worker was killed mid-run
    probe.started = timezone.now() - timedelta(seconds=settings.BOTAUDIT_PROBE_TIME_LIMIT + 61)
    probe.save()
    probe = probe_run_execute(probe_run_id=probe.pk)
    assert probe.status == "failed" and "worker killed" in probe.error
    assert not Finding.objects.filter(subject="a").exists()  # collect() did not run again


def test_soft_time_limit_in_collect_fails_the_probe(test_connector, test_probe, make_bot):
    from celery.exceptions import SoftTimeLimitExceeded

    from scanners.services.audit import audit_run_start
    from scanners.tasks import run_probe

    bot = make_bot("b1")
    test_probe.subjects = [("kept", bot.pk)]
    _audit()
    test_probe.error = SoftTimeLimitExceeded()
    run = audit_run_start(connector_names=["test-conn"])
    probe = run.probe_runs.get(kind="testprobe")
    assert run_probe.apply(args=[probe.pk]).get() == "failed"
    probe.refresh_from_db()
    assert "SoftTimeLimitExceeded" in probe.error
    assert Finding.objects.get(subject="kept").status == "open"


def test_test_factory_goes_through_the_upsert_and_rejects_what_no_check_produces(make_bot):
    from scanners.registry import ProbeError
    from tests.helpers import finding_make

    bot = make_bot("fact-bot")
    f = finding_make(check_id="aws.key.stale", bot=bot, subject="arn:aws:iam::1:user/x#key:ab", severity="high")
    assert (f.category, f.owasp_nhi, f.severity) == ("stale_credential", "NHI7", "high")
    assert f.fingerprint == finding_fingerprint(check_id="aws.key.stale", subject="arn:aws:iam::1:user/x#key:ab")
    assert finding_make(check_id="aws.key.stale", bot=bot, subject="arn:aws:iam::1:user/x#key:ab").pk == f.pk
    with pytest.raises(ProbeError, match="unknown check id 'git.secret.leak'"):
        finding_make(check_id="git.secret.leak", bot=bot)
    with pytest.raises(ValueError, match="has category 'stale_credential', not 'leak'"):
        finding_make(check_id="aws.key.stale", bot=bot, category="leak")
    assert Finding.objects.count() == 1
