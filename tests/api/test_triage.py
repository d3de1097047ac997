"""SLA per severity and risk acceptance on the pages, the API and the findings CSV (issue 14)."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from inventory.models import AuditLogEntry
from scanners.digest.security import security_summary_build
from scanners.digest.selectors import team_digest_build
from scanners.digest.weeks import week_containing
from scanners.models import Finding
from scanners.sla import finding_days_left, finding_due, sla_text
from tests.dashboard.conftest import login, make_finding  # noqa: F401,F811 - fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture
def sla_world(world):
    now = timezone.now()
    late = make_finding(world["bot_a"], "aws.key.unused", severity="critical",
                        first_seen=now - timedelta(days=10))  # 7-day SLA: 3 days overdue
    late_b = make_finding(world["bot_b"], "vault.approle.unbound", severity="high",
                          status="acknowledged", first_seen=now - timedelta(days=40))  # 30 days: 10 overdue
    make_finding(world["bot_a"], "aws.secret.not_rotated", severity="critical",
                 status="false_positive", first_seen=now - timedelta(days=30))  # not active: never overdue
    make_finding(world["bot_a"], "aws.policy.admin", severity="critical",
                 status="accepted", accepted_until=now.date() + timedelta(days=9),
                 first_seen=now - timedelta(days=30))  # accepted: not overdue while accepted
    return {**world, "late": late, "late_b": late_b}


def test_due_date_and_days_left_per_severity(sla_world, settings):
    f = sla_world["f_leak"]  # critical, first seen 3 days ago
    assert finding_due(f) == f.first_seen + timedelta(days=7)
    assert finding_days_left(f) == 4 and sla_text(f) == "4 days left" and not f.is_overdue
    late = sla_world["late"]
    assert finding_days_left(late) == -3 and sla_text(late) == "3 days overdue" and late.is_overdue
    settings.BOTAUDIT_SLA_DAYS = {**settings.BOTAUDIT_SLA_DAYS, "critical": 14}
    assert finding_days_left(late) == 4 and not late.is_overdue
    info = make_finding(sla_world["bot_a"], "git.secret.leaked", severity="info", category="leak")
    assert finding_due(info) is None and sla_text(info) == ""


def test_findings_page_overdue_filter_due_column_and_detail(sla_world, login):  # noqa: F811
    client = login(sla_world["users"]["auditor"])
    page = client.get("/findings/?overdue=true").content.decode()
    assert "aws.key.unused" in page and "vault.approle.unbound" in page
    assert "aws.key.stale" not in page and "aws.secret.not_rotated" not in page and "aws.policy.admin" not in page
    assert "3 days overdue" in page and "Due (SLA)" in page
    rest = client.get("/findings/?overdue=false").content.decode()
    assert "aws.key.stale" in rest and "aws.key.unused" not in rest
    detail = client.get(f"/findings/{sla_world['f_stale'].pk}/").content.decode()
    assert "27 days left" in detail
    accepted = Finding.objects.get(check_id="aws.policy.admin")
    assert "Risk accepted" in client.get(f"/findings/{accepted.pk}/").content.decode()


def test_overview_counts_overdue_per_team_scoped_to_the_viewer(sla_world, login):  # noqa: F811
    page = login(sla_world["users"]["auditor"]).get("/").content.decode()
    assert "Past their SLA" in page
    table = page.split('id="overdue-per-team"')[1].split("</table>")[0]
    assert "payments</a></th><td>1</td>" in table and "platform</a></th><td>1</td>" in table
    viewer = login(sla_world["users"]["viewer_a"]).get("/").content.decode()
    table = viewer.split('id="overdue-per-team"')[1].split("</table>")[0]
    assert "payments" in table and "platform" not in table


def test_api_due_days_left_overdue_and_filter(api, sla_world):
    rows = api("auditor").get("/api/v1/findings/?overdue=true").json()["results"]
    assert sorted(r["check_id"] for r in rows) == ["aws.key.unused", "vault.approle.unbound"]
    assert all(r["overdue"] for r in rows)
    late = next(r for r in rows if r["check_id"] == "aws.key.unused")
    assert late["days_left"] == -3 and late["due"]
    viewer = api("viewer_a").get("/api/v1/findings/?overdue=true").json()["results"]
    assert [r["check_id"] for r in viewer] == ["aws.key.unused"]
    stale = api("auditor").get(f"/api/v1/findings/{sla_world['f_stale'].pk}/").json()
    assert (stale["days_left"], stale["overdue"]) == (27, False)


def test_api_triage_accepts_risk_with_date_and_approver(api, sla_world):
    url = f"/api/v1/findings/{sla_world['f_stale'].pk}/triage/"
    until = (timezone.localdate() + timedelta(days=30)).isoformat()
    assert api("auditor").post(url, {"action": "accept", "reason": "r"}, format="json").status_code == 400
    bad = api("auditor").post(url, {"action": "accept", "reason": "r", "until": until,
                                    "approver": "va@example.com"}, format="json")  # a viewer: no auditor
    assert bad.status_code == 400
    past = api("auditor").post(url, {"action": "accept", "reason": "r", "until": "2020-01-01"}, format="json")
    assert past.status_code == 400 and "passed" in past.json()["detail"]
    ok = api("auditor").post(url, {"action": "accept", "reason": "vendor fix due", "until": until,
                                   "approver": "adm@example.com"}, format="json")
    assert ok.status_code == 200, ok.content
    body = ok.json()
    assert (body["status"], body["accepted_until"], body["accepted_by"]) == ("accepted", until, "adm@example.com")
    assert body["overdue"] is False and body["days_left"] is None
    entry = AuditLogEntry.objects.get(action="finding.accept")
    assert entry.user == sla_world["users"]["auditor"] and entry.detail["approver"] == "adm@example.com"
    assert api("viewer_a").post(url, {"action": "accept", "reason": "r", "until": until},
                                format="json").status_code == 403


def test_findings_csv_has_overdue_last(sla_world, login):  # noqa: F811
    response = login(sla_world["users"]["auditor"]).get("/export/findings.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header = rows[0]
    assert header[-1] == "overdue" and header[:3] == ["check_id", "severity", "category"]
    by_check = {r[0]: r[-1] for r in rows[1:]}
    assert by_check["aws.key.unused"] == "yes" and by_check["vault.approle.unbound"] == "yes"
    assert by_check["aws.key.stale"] == "no" and by_check["aws.secret.not_rotated"] == "no"


def test_digests_count_overdue(sla_world, team):
    with freeze_time(timezone.now() + timedelta(hours=1)):
        week = week_containing(timezone.now())
        team_triage = team_digest_build(team=team, week=week)["triage"]
        assert team_triage["sla_overdue"] == 1
        security = security_summary_build(week=week)["triage"]
        assert security["sla_overdue"] == 2
        assert security["sla_overdue_per_team"] == [{"team": "payments", "overdue": 1},
                                                    {"team": "platform", "overdue": 1}]


def test_bot_page_shows_each_findings_due_date(sla_world, login):  # noqa: F811
    page = login(sla_world["users"]["auditor"]).get("/bots/pay-bot/").content.decode()
    assert "3 days overdue" in page and "27 days left" in page  # the page lists open findings
