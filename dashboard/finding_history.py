"""A finding's status history for its page: the audit log's triage entries for it, and for the
findings merged into it when git leaks became one finding per secret (migration scanners 0005)."""

from __future__ import annotations

from django.db.models import Q

from inventory.models import AuditLogEntry

MAX_ENTRIES = 100


def finding_history(*, finding) -> list[AuditLogEntry]:
    """Oldest first. Triage entries name their findings in `target` ("12,15,..."); merge entries
    name the survivor there and the merged ids in `detail`. Two queries."""
    merges = list(AuditLogEntry.objects.filter(action="finding.merge", target=str(finding.pk)))
    ids = [finding.pk] + [m["id"] for entry in merges for m in entry.detail.get("merged", [])
                          if isinstance(m, dict) and isinstance(m.get("id"), int)]
    pattern = rf"(^|,)({'|'.join(map(str, ids))})(,|$)"
    entries = list(AuditLogEntry.objects.filter(Q(action__startswith="finding.") & Q(target__regex=pattern))
                   .select_related("user").order_by("at", "pk")[:MAX_ENTRIES])
    for entry in entries:  # a triage of a finding that was later merged into this one
        entry.via_merge = entry.action != "finding.merge" and str(finding.pk) not in entry.target.split(",")
    return entries
