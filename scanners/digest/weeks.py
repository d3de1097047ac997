"""ISO weeks in settings.TIME_ZONE: a week runs Monday 00:00 to the next Monday 00:00 local time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")
FIRST_YEAR, LAST_YEAR = 1970, 9998  # a week's neighbours (the one before, the one after) must exist too


@dataclass(frozen=True)
class Week:
    label: str  # "2026-W48"
    start: datetime  # aware, Monday 00:00 in TIME_ZONE
    end: datetime  # aware, the next Monday 00:00 (exclusive)

    def __str__(self):
        return self.label


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _week_of_monday(monday: date) -> Week:
    year, number, _ = monday.isocalendar()
    tz = _tz()
    start = datetime.combine(monday, time.min, tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), time.min, tzinfo=tz)
    return Week(label=f"{year}-W{number:02d}", start=start, end=end)


def week_parse(text: str) -> Week:
    """'2026-W48' -> Week. Raises ValueError naming the bad value."""
    match = WEEK_RE.match(text or "")
    if not match:
        raise ValueError(f"week {text!r}: expected an ISO week like 2026-W48")
    if not FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
        raise ValueError(f"week {text!r}: the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError as exc:
        raise ValueError(f"week {text!r}: {exc}") from exc
    return _week_of_monday(monday)


def week_containing(moment: datetime) -> Week:
    local = timezone.localtime(moment, _tz()).date()
    return _week_of_monday(local - timedelta(days=local.weekday()))


def week_previous(*, now: datetime | None = None) -> Week:
    """The last complete week: what Monday morning's digest reports on."""
    current = week_containing(now or timezone.now())
    return week_containing(current.start - timedelta(days=1))
