"""What the emails say, checked on messages received by a real SMTP server."""

from datetime import UTC, datetime, timedelta

import pytest

from inventory.models import Bot, Connector, Team
from scanners.digest.services import digest_send
from scanners.models import Digest

from .conftest import IN_WEEK, NOW, WEEK, make_finding, make_probe_run


def _only(smtp):
    assert len(smtp.messages) == 1, [m.subject for m in smtp.messages]
    return smtp.messages[0]


def test_team_digest_content_recipients_and_scoping(smtp, fleet):
    assert digest_send(group="team:payments", week=WEEK, now=NOW) == "sent"
    msg = _only(smtp)
    assert msg.subject == "[BotAudit] payments: 2 critical, 5 high open \u2014 week 2026-W48"
    # the team's address and the owners of its active bots; not the retired bot's owner
    assert msg.rcpt_tos == ["alice@example.com", "bob@example.com", "payments@example.com"]
    assert msg.message["From"] == "BotAudit <botaudit@example.com>"
    text, html = msg.part("text/plain"), msg.part("text/html")
    for part in (text, html):
        assert "Critical thing 0" in part and "Critical thing 1" in part and "High thing 3" in part
        assert "Opened this week" in part and "Fixed this week" in part
        assert "ledger-db" in part and "fresh" not in part  # overdue credential only
        assert "pay-refunds" in part and "20" in part and "80" in part  # the score mover
        assert "demo-vault" in part and "an older failure" not in part
        assert "127.0.0.1:8210" not in part and "Runs page" in part  # a URL is no team's business
        # scoping: nothing of platform's bots, findings, credentials or the unowned secret
        for foreign in ("plat-deployer", "Platform only problem", "deploy-key", "orphan", "ghp_"):
            assert foreign not in part
    assert "+60" in text
    assert "https://botaudit.example.com/findings/" in text
    assert 'href="https://botaudit.example.com/findings/' in html
    assert "https://botaudit.example.com/digest/payments/?week=2026-W48" in text
    assert "Medium thing" not in text  # medium findings are counted, not listed
    assert "1 medium" in text and "+1 acknowledged" in text
    record = Digest.objects.get(group="team:payments", week=WEEK)
    assert (record.status, record.attempts, record.team) == ("sent", 1, fleet["payments"])
    assert record.subject == msg.subject and record.recipients == msg.rcpt_tos and record.sent_at


def test_security_summary(smtp, fleet):
    assert digest_send(group="security", week=WEEK, now=NOW) == "sent"
    msg = _only(smtp)
    assert msg.rcpt_tos == ["ciso@example.com", "secops@example.com"]
    # fleet-wide open counts: payments 2 critical + platform 1; 5 high
    assert msg.subject == "[BotAudit] security summary: 3 critical, 5 high open \u2014 week 2026-W48"
    text, html = msg.part("text/plain"), msg.part("text/html")
    for part in (text, html):
        assert "pay-refunds" in part and "plat-deployer" in part  # riskiest bots, both teams
        assert "aws:123456789012:us-east-1:secret:orphan" in part  # unowned secret
        assert "Platform only problem" in part and "ghp_…(40)" in part  # active leak, redacted preview only
    # week over week: critical 2 (+0 payments, acknowledged one counts) -> +1 platform opened in the week
    assert "critical 3 -> 4 (+1)" in " ".join(text.split())
    teams = text.split("TEAMS WITH THE MOST OVERDUE ROTATIONS")[1].split("\n\n")[0]
    assert "payments: 1" in teams and "platform: 1" in teams


def test_all_clear_still_sends_the_numbers(smtp, db):
    quiet = Team.objects.create(name="quiet", slug="quiet", email="quiet@example.com")
    Bot.objects.create(name="quiet-bot", slug="quiet-bot", team=quiet, owner_email="")
    make_finding(bot=Bot.objects.get(name="quiet-bot"), severity="high",
                 title="Long gone", status="resolved", resolved_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert digest_send(group="team:quiet", week=WEEK, now=NOW) == "sent"
    msg = _only(smtp)
    assert msg.subject == "[BotAudit] quiet: all clear \u2014 week 2026-W48"
    assert msg.rcpt_tos == ["quiet@example.com"]
    text = msg.part("text/plain")
    assert "ALL CLEAR" in text and "1 active bot," in text and "0 findings opened this week" in text
    assert "All clear." in msg.part("text/html")


def test_failed_probe_breaks_the_all_clear(smtp, db):
    quiet = Team.objects.create(name="quiet", slug="quiet", email="quiet@example.com")
    Bot.objects.create(name="quiet-bot", slug="quiet-bot", team=quiet)
    aws = Connector.objects.create(name="demo-aws", kind="aws")
    make_probe_run(connector=aws, status="partial", at=IN_WEEK, error="AccessDenied on iam:ListUsers\nmore detail")
    assert digest_send(group="team:quiet", week=WEEK, now=NOW) == "sent"
    msg = _only(smtp)
    assert "all clear" not in msg.subject
    text = msg.part("text/plain")
    assert "ALL CLEAR" not in text
    assert "PROBES THAT FAILED THIS WEEK (1)" in text
    assert "demo-aws (aws) partial" in text and "AccessDenied on iam:ListUsers" in text
    assert "more detail" not in text and "(+1 more)" in text  # first line of the error only
    assert "demo-aws" in msg.part("text/html")


@pytest.mark.parametrize("week, expected", [("2026-W48", True), ("2026-W49", False)])
def test_week_boundary_in_local_time(smtp, db, settings, week, expected):
    settings.TIME_ZONE = "America/Los_Angeles"
    team = Team.objects.create(name="west", slug="west", email="west@example.com")
    bot = Bot.objects.create(name="west-bot", slug="west-bot", team=team)
    # Sunday 29 Nov 23:30 in Los Angeles = Monday 30 Nov 07:30 UTC (UTC's week 49)
    make_finding(bot=bot, severity="low", title="Sunday night finding",
                 first_seen=datetime(2026, 11, 30, 7, 30, tzinfo=UTC))
    assert digest_send(group="team:west", week=week, now=datetime(2026, 12, 8, tzinfo=UTC)) == "sent"
    text = _only(smtp).part("text/plain")
    assert ("OPENED THIS WEEK (1)" in text) is expected
    assert ("Sun 29 Nov 2026" in text) is expected  # the week's last day, in local time


def test_html_part_escapes_inventory_text(smtp, db):
    team = Team.objects.create(name="<b>ops</b>", slug="ops", email="ops@example.com")
    bot = Bot.objects.create(name="<script>alert(1)</script>", slug="xss-bot", team=team)
    make_finding(bot=bot, severity="critical", title="<img src=x onerror=alert(1)>")
    assert digest_send(group="team:ops", week=WEEK, now=NOW) == "sent"
    msg = _only(smtp)
    html = msg.part("text/html")
    assert "<script>" not in html and "<img" not in html and "<b>ops" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html
    assert "<script>alert(1)</script>" in msg.part("text/plain")  # plain text stays plain


@pytest.mark.django_db
@pytest.mark.parametrize(("age", "overdue"),
                         [(timedelta(days=30, hours=5), False), (timedelta(days=31, hours=1), True)])
def test_digest_and_dashboard_agree_on_overdue_rotation(make_bot, make_credential, age, overdue):
    from django.utils import timezone

    from inventory.credentials import credential_rotation_overdue
    from scanners.digest.selectors import credentials_overdue

    now = timezone.now()
    bot = make_bot("rot-bot")
    cred = make_credential(bot, "k", rotation_days=30, created_at=now - age)
    assert credential_rotation_overdue(cred, now=now) is overdue
    listed = [c["credential"] for c in credentials_overdue(now=now, bots=[bot])]
    assert listed == (["k"] if overdue else [])
