"""ISO weeks in settings.TIME_ZONE."""

from datetime import UTC, datetime

import pytest

from scanners.digest.weeks import week_containing, week_parse, week_previous

pytestmark = pytest.mark.fast  # pure: runs in make test-fast

def test_week_bounds_follow_the_time_zone(settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    week = week_parse("2026-W48")
    assert week.start.astimezone(UTC) == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # PST = UTC-8
    assert week.end.astimezone(UTC) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert week_containing(datetime(2026, 11, 30, 7, 59, tzinfo=UTC)).label == "2026-W48"
    assert week_containing(datetime(2026, 11, 30, 8, 0, tzinfo=UTC)).label == "2026-W49"


def test_week_across_a_dst_change_is_seven_local_days(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    week = week_parse("2026-W13")  # clocks go forward on Sunday 29 March 2026
    assert (week.end.astimezone(UTC) - week.start.astimezone(UTC)).total_seconds() == 7 * 24 * 3600 - 3600
    assert week.end.hour == 0 and week.start.hour == 0


def test_monday_morning_reports_the_week_just_ended(settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    monday_8_local = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert week_previous(now=monday_8_local).label == "2026-W48"
    assert week_previous(now=datetime(2027, 1, 4, 16, 0, tzinfo=UTC)).label == "2026-W53"  # 2026 has 53 weeks


@pytest.mark.parametrize("bad", ["", "2026-48", "2026-W4", "W48", "2026-W00", "2025-W53", "2026-w48 "])
def test_bad_weeks_are_refused_with_the_value(bad):
    with pytest.raises(ValueError, match="week "):
        week_parse(bad)
