"""What a person may do from a page or the API, in one place: triage the findings they can see,
and start an audit."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied

from inventory.selectors import user_is_auditor
from scanners.selectors.findings import findings_visible_to
from scanners.services.findings import findings_triage


def findings_triage_visible(*, user, finding_ids, action: str, reason: str, until=None, approver=None) -> int:
    """Triage those of `finding_ids` the user can see (auditors only); the number changed. `accept`
    (risk acceptance) also takes `until` (a date) and `approver` (an auditor; the user when not given);
    scanners.services.acceptance.AcceptanceError says what is missing."""
    if not user_is_auditor(user):
        raise PermissionDenied("Only auditors triage findings.")
    if action == "accept" and approver is None:
        approver = user
    ids = list(findings_visible_to(user).filter(pk__in=list(finding_ids)).values_list("pk", flat=True))
    return findings_triage(finding_ids=ids, action=action, user=user, reason=reason, until=until,
                           approver=approver)


def audit_request(*, user):
    """Start an audit for an auditor: queued to the workers with REDIS_URL, else run in-process.
    Returns (message, the finished AuditRun or None when queued). The run is created here and its id
    handed to the workers; a broker that is down raises scanners.tasks.BrokerUnavailable (the run is
    ended as failed with that reason)."""
    if not user_is_auditor(user):
        raise PermissionDenied("Only auditors start audits.")
    trigger = f"web:{user.get_username()}"[:50]
    if settings.REDIS_URL:
        from scanners.tasks import audit_enqueue

        run = audit_enqueue(trigger=trigger)
        return f"Audit #{run.pk} queued: the workers will run it; refresh to follow it.", None
    from scanners.services.audit import audit_run_in_process

    run = audit_run_in_process(trigger=trigger)
    return f"Audit #{run.pk} finished: {run.status}.", run
