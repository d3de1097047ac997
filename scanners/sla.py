"""Service-level deadlines per severity, the one definition: a finding is due `BOTAUDIT_SLA_DAYS`
[severity] days after it was first seen, and overdue while it is active (open or acknowledged) past
that. `info` findings have no deadline; accepted, false-positive and resolved ones are never overdue."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .models import ACTIVE_STATUSES


def sla_days(severity: str) -> int | None:
    return settings.BOTAUDIT_SLA_DAYS.get(severity)


def finding_due(finding) -> datetime | None:
    """When the finding is due (first seen + its severity's days), or None (no SLA for `info`)."""
    days = sla_days(finding.severity)
    return finding.first_seen + timedelta(days=days) if days is not None and finding.first_seen else None


def finding_days_left(finding, *, now: datetime | None = None) -> int | None:
    """Whole days until due (negative: days overdue); None without a deadline or when not active."""
    due = finding_due(finding)
    if due is None or finding.status not in ACTIVE_STATUSES:
        return None
    now = now or timezone.now()
    return (timezone.localtime(due).date() - timezone.localtime(now).date()).days


def finding_is_overdue(finding, *, now: datetime | None = None) -> bool:
    due = finding_due(finding)
    return bool(due is not None and finding.status in ACTIVE_STATUSES and due < (now or timezone.now()))


def overdue_q(*, now: datetime | None = None, prefix: str = "") -> Q:
    """The overdue findings as a query: active and first seen more than their SLA ago."""
    now = now or timezone.now()
    due = Q()
    for severity, days in settings.BOTAUDIT_SLA_DAYS.items():
        due |= Q(**{f"{prefix}severity": severity, f"{prefix}first_seen__lt": now - timedelta(days=days)})
    return Q(**{f"{prefix}status__in": ACTIVE_STATUSES}) & due


def sla_text(finding, *, now: datetime | None = None) -> str:
    """'5 days left', 'due today', '3 days overdue', or '' (no deadline, or not active)."""
    left = finding_days_left(finding, now=now)
    if left is None:
        return ""
    if left == 0:
        return "overdue since today" if finding_is_overdue(finding, now=now) else "due today"
    days = abs(left)
    unit = "day" if days == 1 else "days"
    return f"{days} {unit} left" if left > 0 else f"{days} {unit} overdue"
