"""Risk acceptance with expiry: required reason, date and auditor approver; not scored while accepted;
reopened the day after its date by the daily beat task and by the next audit; in the audit log, the
digest, the pages and the API."""

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from freezegun import freeze_time

from dashboard.actions import findings_triage_visible
from inventory.accounts import user_grant
from inventory.models import AuditLogEntry
from scanners.digest.selectors import team_digest_build
from scanners.digest.weeks import week_parse
from scanners.models import BotScore, Finding
from scanners.services.acceptance import AcceptanceError
from scanners.services.audit import audit_run_in_process
from scanners.services.schedules import ACCEPTANCE_TASK, ACCEPTANCE_TASK_NAME, schedules_setup
from scanners.tasks import expire_risk_acceptances

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(db):
    return user_grant(email="aud@example.com", role="auditor", password="pw-unused-here")[0]


@pytest.fixture
def shared(team, make_bot, make_credential):
    """Two bots sharing one credential ref: the inventory probe reports one high finding on each."""
    live, test = make_bot("live-bot"), make_bot("test-bot", environment="staging")
    make_credential(live, "db", ref="secret/shared/db")
    make_credential(test, "db", ref="secret/shared/db")
    return live, test


def _shared_finding(bot):
    return Finding.objects.get(check_id="inventory.credential.shared_across_environments", bot=bot)


def _score(bot, run):
    return BotScore.objects.get(bot=bot, audit_run=run).score


def test_acceptance_needs_date_approver_auditor_and_is_logged(shared, auditor, team):
    audit_run_in_process()
    finding = _shared_finding(shared[0])
    viewer = get_user_model().objects.create_user(username="viewer@example.com")
    with pytest.raises(PermissionDenied):
        findings_triage_visible(user=viewer, finding_ids=[finding.pk], action="accept", reason="x",
                                until=timezone.localdate() + timedelta(days=3))
    with pytest.raises(AcceptanceError, match="date"):
        findings_triage_visible(user=auditor, finding_ids=[finding.pk], action="accept", reason="x")
    with pytest.raises(AcceptanceError, match="passed"):
        findings_triage_visible(user=auditor, finding_ids=[finding.pk], action="accept", reason="x",
                                until=timezone.localdate() - timedelta(days=1))
    with pytest.raises(AcceptanceError, match="auditor"):
        findings_triage_visible(user=auditor, finding_ids=[finding.pk], action="accept", reason="x",
                                until=timezone.localdate() + timedelta(days=3), approver=viewer)
    with pytest.raises(ValueError, match="reason"):
        findings_triage_visible(user=auditor, finding_ids=[finding.pk], action="accept", reason="  ",
                                until=timezone.localdate() + timedelta(days=3))
    assert Finding.objects.get(pk=finding.pk).status == "open"

    until = timezone.localdate() + timedelta(days=3)
    assert findings_triage_visible(user=auditor, finding_ids=[finding.pk], action="accept",
                                   reason="migration to per-env creds is planned", until=until) == 1
    finding.refresh_from_db()
    assert (finding.status, finding.accepted_until, finding.accepted_by) == ("accepted", until, auditor)
    entry = AuditLogEntry.objects.get(action="finding.accept")
    assert entry.user == auditor and entry.detail["accepted_until"] == until.isoformat()
    assert entry.detail["approver"] == auditor.username and entry.detail["finding_ids"] == [finding.pk]


def test_accepted_not_scored_until_date_then_reopened_by_next_audit(shared, auditor):
    live, test = shared
    with freeze_time("2026-03-02 10:00:00"):
        run = audit_run_in_process()
        full = _score(test, run)  # one open high finding, under the score's own weights
        assert _score(live, run) == full > 0
        findings_triage_visible(user=auditor, finding_ids=[_shared_finding(live).pk], action="accept",
                                reason="accepted for the quarter", until=date(2026, 3, 10))
    with freeze_time("2026-03-10 23:00:00"):  # the last accepted day: still accepted, not scored
        run = audit_run_in_process()
        assert _shared_finding(live).status == "accepted"
        assert (_score(live, run), _score(test, run)) == (0, full)
    with freeze_time("2026-03-11 00:30:00"):  # the day after: the audit reopens it before scoring
        run = audit_run_in_process()
        finding = _shared_finding(live)
        assert finding.status == "open" and "expired" in finding.status_reason
        assert finding.accepted_until == date(2026, 3, 10)  # kept as the record of what was accepted
        assert _score(live, run) == full
    expired = AuditLogEntry.objects.get(action="finding.acceptance_expired")
    assert expired.detail["finding_ids"] == [finding.pk] and expired.user is None


def test_daily_beat_task_reopens_expired_acceptances(shared, auditor):
    schedules_setup()
    periodic = PeriodicTask.objects.get(name=ACCEPTANCE_TASK_NAME)
    assert periodic.task == ACCEPTANCE_TASK == expire_risk_acceptances.name == "botaudit.expire_risk_acceptances"
    assert periodic.crontab is not None and periodic.crontab.hour == "0"
    with freeze_time("2026-05-04 09:00:00"):
        audit_run_in_process()
        ids = [_shared_finding(b).pk for b in shared]
        findings_triage_visible(user=auditor, finding_ids=ids[:1], action="accept", reason="r",
                                until=date(2026, 5, 5))
        findings_triage_visible(user=auditor, finding_ids=ids[1:], action="accept", reason="r",
                                until=date(2026, 5, 20))
    with freeze_time("2026-05-05 23:59:00"):
        assert expire_risk_acceptances.apply().get() == 0
    with freeze_time("2026-05-06 00:05:00"):
        assert expire_risk_acceptances.apply().get() == 1
        assert expire_risk_acceptances.apply().get() == 0  # idempotent
        assert list(Finding.objects.filter(pk__in=ids).order_by("pk").values_list("status", flat=True)) == [
            "open", "accepted"]


def test_digest_says_which_acceptances_expired(shared, auditor, team):
    with freeze_time("2026-06-01 09:00:00"):  # Monday of 2026-W23
        audit_run_in_process()
        live = _shared_finding(shared[0])
        findings_triage_visible(user=auditor, finding_ids=[live.pk], action="accept", reason="r",
                                until=date(2026, 6, 3))
        findings_triage_visible(user=auditor, finding_ids=[_shared_finding(shared[1]).pk], action="accept",
                                reason="r", until=date(2026, 7, 1))
    with freeze_time("2026-06-04 01:00:00"):
        expire_risk_acceptances.apply()
    with freeze_time("2026-06-08 09:00:00"):
        triage = team_digest_build(team=team, week=week_parse("2026-W23"))["triage"]
        assert [(a["title"], a["until"], a["status"]) for a in triage["acceptance_expired"]] == [
            (live.title, date(2026, 6, 3), "open")]
        assert triage["accepted_count"] == 1 and triage["accepted"][0]["until"] == date(2026, 7, 1)
        from scanners.digest.render import digest_render

        rendered = digest_render(team_digest_build(team=team, week=week_parse("2026-W23")))
        assert "RISK ACCEPTANCES THAT EXPIRED THIS WEEK (1)" in rendered.text
        assert "accepted until 2026-06-03, now open" in rendered.text
        assert "Risk acceptances that expired this week (1)" in rendered.html


def test_other_triage_clears_an_acceptance_and_resolved_findings_are_not_accepted(shared, auditor):
    audit_run_in_process()
    finding = _shared_finding(shared[0])
    until = timezone.localdate() + timedelta(days=5)
    findings_triage_visible(user=auditor, finding_ids=[finding.pk], action="accept", reason="r", until=until)
    findings_triage_visible(user=auditor, finding_ids=[finding.pk], action="reopen", reason="not any more")
    finding.refresh_from_db()
    assert (finding.status, finding.accepted_until, finding.accepted_by) == ("open", None, None)
    Finding.objects.filter(pk=finding.pk).update(status="resolved")
    assert findings_triage_visible(user=auditor, finding_ids=[finding.pk], action="accept", reason="r",
                                   until=until) == 0


def test_digest_week_boundaries_of_an_expiry(shared, auditor, team):
    """An acceptance until Sunday reopens on Monday: in the next week's digest, not this one's."""
    with freeze_time("2026-06-01 09:00:00"):
        audit_run_in_process()
        finding = _shared_finding(shared[0])
        findings_triage_visible(user=auditor, finding_ids=[finding.pk], action="accept", reason="r",
                                until=date(2026, 6, 7))  # Sunday of 2026-W23
    with freeze_time("2026-06-08 01:00:00"):
        expire_risk_acceptances.apply()
        assert team_digest_build(team=team, week=week_parse("2026-W23"))["triage"]["acceptance_expired"] == []
        rows = team_digest_build(team=team, week=week_parse("2026-W24"))["triage"]["acceptance_expired"]
        assert [r["until"] for r in rows] == [date(2026, 6, 7)]
