"""Writes to the findings store: upsert by fingerprint, reconcile after a successful probe,
and triage by people."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from ..models import RECONCILED_STATUSES, Finding, ProbeRun
from ..registry import Check, Hit

OPEN = Finding.Status.OPEN


def finding_fingerprint(*, check_id: str, subject: str) -> str:
    """Stable identity of a finding: check id + subject, never a commit id or a timestamp."""
    return hashlib.sha256(f"{check_id}\x1f{subject}".encode()).hexdigest()


@dataclass(frozen=True)
class Draft:
    check: Check
    hit: Hit

    @property
    def fingerprint(self) -> str:
        return finding_fingerprint(check_id=self.check.id, subject=self.hit.subject)

    def values(self) -> dict:
        return {
            "check_id": self.check.id,
            "severity": self.hit.severity or self.check.severity,
            "category": self.check.category,
            "owasp_nhi": self.check.owasp,
            "title": (self.hit.title or self.check.title)[:300],
            "bot_id": self.hit.bot_id,
            "subject": self.hit.subject[:1000],
            "evidence": self.hit.evidence,
            "remediation": self.check.remediation,
        }


def _apply_seen(finding: Finding, draft: Draft, *, probe_run: ProbeRun | None, now) -> None:
    for name, value in draft.values().items():
        setattr(finding, name, value)
    finding.last_seen = now
    finding.last_probe_run = probe_run
    if finding.status == Finding.Status.RESOLVED:  # seen again: reopen
        finding.status = OPEN
        finding.resolved_at = None
        finding.status_changed_by = None
        finding.status_changed_at = now
        finding.status_reason = "seen again"


_UPDATE_FIELDS = [
    "scope", "check_id", "severity", "category", "owasp_nhi", "title", "bot", "subject", "evidence", "remediation",
    "last_seen", "last_probe_run", "status", "resolved_at", "status_changed_by", "status_changed_at",
    "status_reason",
]
# What an insert that meets a row created meanwhile (another scope, another process) refreshes: what
# was seen (and by which unit: a finding's scope is the unit that saw it last), never the row's
# status, triage or first_seen.
_SEEN_FIELDS = [
    "scope", "check_id", "severity", "category", "owasp_nhi", "title", "bot", "subject", "evidence", "remediation",
    "last_seen", "last_probe_run",
]


def _findings_insert(findings: list[Finding]) -> None:
    """INSERT ... ON CONFLICT (fingerprint) DO UPDATE: concurrent creation of the same finding is
    one row, whichever transaction commits first (PostgreSQL and SQLite alike)."""
    Finding.objects.bulk_create(findings, update_conflicts=True, unique_fields=["fingerprint"],
                                update_fields=_SEEN_FIELDS)


def findings_upsert(*, drafts: Iterable[Draft], scope: str, probe_run: ProbeRun | None = None) -> dict:
    """Create or refresh findings by fingerprint. Returns counts {created, updated, reopened}."""
    now = timezone.now()
    by_fp: dict[str, Draft] = {}
    for draft in drafts:
        by_fp[draft.fingerprint] = draft  # a check reporting the same subject twice counts once
    counts = {"created": 0, "updated": 0, "reopened": 0}
    fps = list(by_fp)
    with transaction.atomic():
        for start in range(0, len(fps), 2000):
            chunk = fps[start:start + 2000]
            existing = {f.fingerprint: f for f in Finding.objects.select_for_update().filter(fingerprint__in=chunk)}
            to_update, to_create = [], []
            for fp in chunk:
                draft = by_fp[fp]
                finding = existing.get(fp)
                if finding is None:
                    finding = Finding(fingerprint=fp, scope=scope, first_seen=now, status=OPEN)
                    _apply_seen(finding, draft, probe_run=probe_run, now=now)
                    to_create.append(finding)
                else:
                    if finding.status == Finding.Status.RESOLVED:
                        counts["reopened"] += 1
                    _apply_seen(finding, draft, probe_run=probe_run, now=now)
                    finding.scope = scope  # owned by the unit that saw it last
                    to_update.append(finding)
            _findings_insert(to_create)
            Finding.objects.bulk_update(to_update, _UPDATE_FIELDS)
            counts["created"] += len(to_create)
            counts["updated"] += len(to_update)
    return counts


def finding_upsert(*, check: Check, hit: Hit, scope: str, probe_run: ProbeRun | None = None) -> Finding:
    """Upsert one finding; idempotent by fingerprint."""
    draft = Draft(check=check, hit=hit)
    findings_upsert(drafts=[draft], scope=scope, probe_run=probe_run)
    return Finding.objects.get(fingerprint=draft.fingerprint)


def findings_reconcile(*, probe_run: ProbeRun, hold=None) -> int:
    """Resolve active findings in the probe's scope that it did not see again.

    Only after an `ok` probe: a failed or partial probe resolves nothing. False positives stay;
    accepted findings are resolved too (the accepted risk went away).
    "Not seen again" is by time: last seen before this probe started. So a concurrent run of the same
    scope that saw a finding after this probe began is never overruled by this probe's older view
    (the pipeline also serialises each scope's upsert + reconcile with a lock). `hold` (the kind's
    reconcile_hold) names findings another unit still sees: they move to its scope, unresolved.
    """
    if probe_run.status != ProbeRun.Status.OK:
        return 0
    stale = list(Finding.objects.filter(scope=probe_run.scope, status__in=RECONCILED_STATUSES,
                                        last_seen__lt=probe_run.started).exclude(last_probe_run=probe_run))
    return findings_resolve(findings=stale, hold=hold, reason=f"not seen again in audit #{probe_run.audit_run_id}")


def findings_resolve(*, findings: list[Finding], reason: str, hold=None) -> int:
    """Resolve `findings`, except those `hold(findings=...)` hands to another unit's scope."""
    if not findings:
        return 0
    moved = hold(findings=findings) if hold else {}
    by_scope: dict[str, list[int]] = {}
    for pk, scope in moved.items():
        by_scope.setdefault(scope, []).append(pk)
    for scope, pks in by_scope.items():
        Finding.objects.filter(pk__in=pks).update(scope=scope)
    now = timezone.now()
    return Finding.objects.filter(pk__in=[f.pk for f in findings if f.pk not in moved]).update(
        status=Finding.Status.RESOLVED,
        resolved_at=now,
        status_changed_by=None,
        status_changed_at=now,
        status_reason=reason,
    )


TRIAGE_STATUSES = {
    "acknowledge": Finding.Status.ACKNOWLEDGED,
    "false_positive": Finding.Status.FALSE_POSITIVE,
    "reopen": Finding.Status.OPEN,
    "accept": Finding.Status.ACCEPTED,  # with a date and an approver: services/acceptance.py
}


def findings_triage(*, finding_ids: Iterable[int], action: str, user, reason: str,
                    until=None, approver=None) -> int:
    """Set the status of findings by hand, with a required reason; recorded in the audit log.
    `accept` also needs `until` (a date) and `approver` (an auditor)."""
    from inventory.models import AuditLogEntry

    from .acceptance import findings_accept

    if action not in TRIAGE_STATUSES:
        raise ValueError(f"unknown triage action {action!r}")
    if not reason or not reason.strip():
        raise ValueError("a reason is required to triage a finding")
    if action == "accept":
        return findings_accept(finding_ids=finding_ids, user=user, reason=reason, until=until, approver=approver)
    ids = list(finding_ids)
    now = timezone.now()
    with transaction.atomic():
        updated = Finding.objects.filter(pk__in=ids).update(
            status=TRIAGE_STATUSES[action],
            status_changed_by=user,
            status_changed_at=now,
            status_reason=reason.strip(),
            resolved_at=None,
            accepted_until=None,
            accepted_by=None,
        )
        AuditLogEntry.objects.create(
            user=user, action=f"finding.{action}", target=",".join(map(str, ids))[:500],
            detail={"finding_ids": ids, "reason": reason.strip()},
        )
    return updated
