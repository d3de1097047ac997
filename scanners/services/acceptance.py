"""Risk acceptance with expiry: an auditor accepts a finding's risk until a date, with a reason and
an approving auditor. Accepted findings are not scored (not active) until the date has passed; then
they reopen, on the next audit (before scoring) and on the daily beat task, whichever comes first.

`accepted_until` is inclusive: accepted through the end of that day (TIME_ZONE); the finding reopens
on the day after."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.utils import timezone

from inventory.selectors import user_is_auditor

from ..models import Finding

ACCEPTANCE_EXPIRED_ACTION = "finding.acceptance_expired"


class AcceptanceError(ValueError):
    """A risk acceptance that cannot be recorded (no date, a past date, an approver who is no auditor)."""


def today() -> date:
    return timezone.localdate()


def acceptance_check(*, until: date | None, approver) -> None:
    if until is None:
        raise AcceptanceError("accepting a risk needs a date it is accepted until")
    if until < today():
        raise AcceptanceError(f"accepted until {until:%Y-%m-%d}: that date has passed")
    if approver is None or not user_is_auditor(approver):
        raise AcceptanceError("accepting a risk needs an approver who is an auditor")


def findings_accept(*, finding_ids: Iterable[int], user, reason: str, until: date, approver) -> int:
    """Accept the findings' risk until `until` (inclusive); recorded in the audit log."""
    from inventory.models import AuditLogEntry

    acceptance_check(until=until, approver=approver)
    ids = list(finding_ids)
    now = timezone.now()
    with transaction.atomic():
        updated = Finding.objects.filter(pk__in=ids).exclude(status=Finding.Status.RESOLVED).update(
            status=Finding.Status.ACCEPTED, status_changed_by=user, status_changed_at=now,
            status_reason=reason.strip(), resolved_at=None, accepted_until=until, accepted_by=approver,
        )
        AuditLogEntry.objects.create(
            user=user, action="finding.accept", target=",".join(map(str, ids))[:500],
            detail={"finding_ids": ids, "reason": reason.strip(), "accepted_until": until.isoformat(),
                    "approver": approver.get_username()},
        )
    return updated


def findings_acceptance_expire(*, on: date | None = None) -> int:
    """Reopen accepted findings whose date has passed (accepted_until < `on`, default today).
    Idempotent; the number reopened. The acceptance date and approver stay on the row as a record."""
    from inventory.models import AuditLogEntry

    on = on or today()
    now = timezone.now()
    with transaction.atomic():
        expired = list(Finding.objects.select_for_update(skip_locked=True)
                       .filter(status=Finding.Status.ACCEPTED, accepted_until__lt=on)
                       .values_list("pk", "accepted_until"))
        for pk, until in expired:
            Finding.objects.filter(pk=pk, status=Finding.Status.ACCEPTED).update(
                status=Finding.Status.OPEN, status_changed_by=None, status_changed_at=now,
                status_reason=f"risk acceptance expired (accepted until {until:%Y-%m-%d})",
            )
        if expired:
            ids = [pk for pk, _ in expired]
            AuditLogEntry.objects.create(action=ACCEPTANCE_EXPIRED_ACTION, target=",".join(map(str, ids))[:500],
                                         detail={"finding_ids": ids, "on": on.isoformat()})
    return len(expired)
