"""One home per rule: risk bands, active statuses, days since. Pure, no services (the fast lane)."""

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.filters_fleet import BotFilter
from inventory.credentials import days_since, rotation_overdue
from scanners.models import ACTIVE_STATUSES, Finding
from scanners.scoring import RISK_BAND_NAMES, RISK_BANDS, UNKNOWN_BAND, risk_band, risk_band_range

pytestmark = pytest.mark.fast
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def test_every_score_falls_in_exactly_one_band_and_its_range():
    for score in range(0, 101):
        holding = [band for band, low, high in RISK_BANDS if low <= score <= high]
        assert holding == [risk_band(score)], score
        low, high = risk_band_range(risk_band(score))
        assert low <= score <= high
    assert risk_band(None) == UNKNOWN_BAND and RISK_BAND_NAMES[-1] == UNKNOWN_BAND


def test_band_range_names_an_unknown_band():
    with pytest.raises(ValueError, match="unknown risk band 'severe' .known: critical, high"):
        risk_band_range("severe")


def test_fleet_filter_offers_exactly_the_bands():
    assert [value for value, _ in BotFilter.base_filters["risk"].extra["choices"]] == list(RISK_BAND_NAMES)


def test_active_statuses_are_open_and_acknowledged_only():
    assert set(ACTIVE_STATUSES) == {Finding.Status.OPEN, Finding.Status.ACKNOWLEDGED}


@pytest.mark.parametrize(("moment", "days"), [
    (None, None), (NOW, 0), (NOW - timedelta(hours=23), 0), (NOW - timedelta(days=1), 1),
    (NOW + timedelta(days=3), 0),  # a clock ahead of ours never gives a negative age
])
def test_days_since_is_whole_days_and_never_negative(moment, days):
    assert days_since(moment, now=NOW) == days


def test_rotation_overdue_only_past_the_policy():
    at = NOW - timedelta(days=90)
    assert not rotation_overdue(rotation_days=90, last_rotated_at=at, created_at=None, now=NOW)
    assert rotation_overdue(rotation_days=89, last_rotated_at=at, created_at=None, now=NOW)
    assert not rotation_overdue(rotation_days=None, last_rotated_at=at, created_at=None, now=NOW)
    assert rotation_overdue(rotation_days=30, last_rotated_at=None, created_at=at, now=NOW)
