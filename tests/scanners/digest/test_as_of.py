"""One point in time per digest: every number is as of the end of its week and says so, for a week
with an audit and a week without one; team digests list every active bot with its score and open
counts as of then. Today's state (a finding opened and one resolved after the weeks, a later score)
must not leak into an earlier week's digest."""

from datetime import UTC, datetime

import pytest

from inventory.models import Bot, Team
from scanners.digest.services import digest_prepare
from scanners.digest.weeks import week_parse

from .conftest import make_finding, make_score

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # a Thursday, in week 49
W46_END = "Sunday 2026-11-15 23:59 UTC"  # before anything existed
W47_END = "Sunday 2026-11-22 23:59 UTC"  # an audit on Wednesday
W48_END = "Sunday 2026-11-29 23:59 UTC"  # no audit at all


@pytest.fixture
def history(db, settings):
    settings.TIME_ZONE = "UTC"
    settings.BOTAUDIT_DIGEST_SECURITY_RECIPIENTS = ["secops@example.com"]
    team = Team.objects.create(name="payments", slug="payments", email="payments@example.com")
    busy = Bot.objects.create(name="pay-busy", slug="pay-busy", team=team, owner_email="a@example.com")
    Bot.objects.create(name="pay-quiet", slug="pay-quiet", team=team, owner_email="b@example.com")
    Bot.objects.create(name="pay-gone", slug="pay-gone", team=team, status="retired")
    seen = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)
    make_finding(bot=busy, check_id="git.secret.leaked", category="leak", severity="critical",
                 title="Leak at the tip", first_seen=seen, evidence={"redacted": "ghp_…(40)"})
    make_finding(bot=busy, severity="high", title="Fixed on Dec 1", first_seen=seen, status="resolved",
                 resolved_at=datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    make_finding(bot=busy, severity="high", title="Acknowledged on Dec 2", first_seen=seen, status="acknowledged",
                 status_changed_at=datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    make_finding(bot=busy, severity="critical", title="Opened on Dec 1", first_seen=datetime(2026, 12, 1, 3, 0,
                                                                                            tzinfo=UTC))
    make_score(busy, 30, datetime(2026, 11, 18, 3, 0, tzinfo=UTC))  # the week-47 audit
    make_score(busy, 90, datetime(2026, 12, 1, 3, 0, tzinfo=UTC))  # today's picture, after both weeks
    return team


def _text(group, week):
    return " ".join(digest_prepare(group=group, week=week_parse(week), now=NOW).rendered.text.split())


@pytest.mark.parametrize(("week", "as_of"), [("2026-W47", W47_END), ("2026-W48", W48_END)])
def test_team_digest_numbers_are_as_of_the_end_of_its_week(history, week, as_of):
    text = _text("team:payments", week)
    assert f"Every number is as of {as_of}." in text
    # as they stood then: the leak and both highs open (one fixed and one acknowledged only later)
    assert f"Open as of {as_of}: 1 critical, 2 high, 0 medium, 0 low" in text
    assert "acknowledged" not in text.split("Open as of")[1].split(".")[0]
    assert "Opened on Dec 1" not in text and "Fixed on Dec 1" in text  # still open then
    assert "score 90" not in text and "90" not in text.split("BOTS")[1].split("CRITICAL")[0]
    # every active bot of the team, with its score and open counts as of then; retired ones are not audited
    assert "BOTS (2)" in text and "pay-busy: score 30, open 1/2/0/0" in text
    assert "pay-quiet: score none, open 0/0/0/0" in text and "pay-gone" not in text


def test_security_summary_agrees_with_itself(history):
    for week, as_of, critical in (("2026-W47", W47_END, "critical 0 -> 1 (+1)"),
                                  ("2026-W48", W48_END, "critical 1 -> 1 (+0)")):
        text = _text("security", week)
        assert f"Every number is as of {as_of}." in text
        assert critical in text and "LEAKS STILL ACTIVE (1)" in text and "Leak at the tip" in text
        assert "pay-busy (payments): 30" in text  # the latest score by then, not today's 90
        assert "Opened on Dec 1" not in text


def test_a_week_before_anything_is_zero_everywhere_and_says_when(history):
    """The fresh-demo contradiction: 'Active findings: 0' beside 'Leaks still active (33)'."""
    text = _text("security", "2026-W46")
    assert f"Every number is as of {W46_END}." in text
    assert "critical 0 -> 0 (+0)" in text and "LEAKS STILL ACTIVE (0)" in text
    assert f"RISKIEST BOTS: none scored above 0 as of {W46_END}." in text
    team = _text("team:payments", "2026-W46")
    assert f"Open as of {W46_END}: 0 critical, 0 high" in team and "pay-busy: score none, open 0/0/0/0" in team


def test_the_running_week_is_as_of_now(history):
    text = _text("team:payments", "2026-W49")
    assert "Every number is as of Thursday 2026-12-03 09:00 UTC." in text
    assert "Open as of Thursday 2026-12-03 09:00 UTC: 2 critical, 0 high" in text and "+1 acknowledged" in text
    assert "pay-busy: score 90, open 2/0/0/0" in text
