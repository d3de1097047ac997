"""Units of work: plan each connector's units, order them in phases, and sweep what no unit owns.

An audit starts with one placeholder ProbeRun per connector (unit ""). The fan-out (the `audit`
queue task, or the in-process audit) plans once per audit run (`AuditRun.planned`): a kind with
`plan` replaces its placeholder by one ProbeRun per Unit; a planning error fails the placeholder
with the reason; a kind without `plan` keeps the placeholder as its one unit "".

Phases: a unit's phase is the rank of (facts depth of its kind, Unit.phase) among the audit's
units, where a kind's facts depth is 0 without `uses_facts` (of kinds in this audit), else 1 + the
depth of the kinds it reads. So aws units run in phase 0 and git units (which read aws facts) in
phase 1; an audit without an aws connector runs git in phase 0 (its facts are an earlier audit's). The Celery
fan-out queues one chord per phase; the chord's callback (`botaudit.audit_phase`) queues the next
phase's chord, and the last one scores (`botaudit.finish_audit`). A chord's callback runs only
once every task of its header has returned, so no unit of phase n+1 starts before every unit of
phase n has finished (committed its findings and facts). The in-process audit runs units sorted
by phase.
"""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.utils import timezone

from inventory.locations import text_redact

from .. import registry
from ..models import RECONCILED_STATUSES, AuditRun, Finding, ProbeRun
from .findings import findings_resolve

log = logging.getLogger(__name__)


def connector_scope(connector, unit: str = "") -> str:
    """The findings a unit owns: `connector:<pk>` for the whole connector, `connector:<pk>:<unit>`."""
    return f"connector:{connector.pk}:{unit}" if unit else f"connector:{connector.pk}"


def kind_depth(kind: str, present=None, _seen: frozenset = frozenset()) -> int:
    """0 for a kind that reads no facts (of kinds `present` in the audit, when given), else 1 + the
    deepest kind it reads facts of. A kind read but not audited this time orders nothing: its
    facts come from an earlier audit, complete already."""
    try:
        uses = registry.get(kind).uses_facts
    except registry.ProbeError:
        return 0
    if kind in _seen:
        return 0  # a cycle cannot be ordered; it is not made worse by looping
    return max((1 + kind_depth(k, present, _seen | {kind}) for k in uses if present is None or k in present),
               default=0)


def _plan_connector(probe_run: ProbeRun, ctx) -> list[registry.Unit] | str | None:
    """The units of the placeholder's connector; None = keep the placeholder; str = why planning failed."""
    try:
        kind = registry.get(probe_run.kind)
    except registry.ProbeError:
        return None  # executing it reports the unknown kind
    if kind.plan is None or probe_run.connector is None:
        return None
    try:
        units = list(kind.plan(probe_run.connector, ctx))
    except Exception as exc:  # noqa: BLE001 - any planning error is one failed unit with its reason
        log.warning("planning %s failed: %s", probe_run.connector.name, type(exc).__name__)
        return f"{probe_run.connector.name}: planning failed: {type(exc).__name__}: {exc}"
    unique: dict[str, registry.Unit] = {}
    for unit in units:
        unique.setdefault(unit.name, unit)
    return list(unique.values()) or None


def audit_run_plan(*, audit_run_id: int) -> AuditRun:
    """Plan the units of every connector of the run, once; set every unit's phase. Idempotent."""
    run = AuditRun.objects.get(pk=audit_run_id)
    if run.planned:
        return run
    from ..context import ProbeContext

    placeholders = list(run.probe_runs.select_related("connector").filter(
        unit="", status=ProbeRun.Status.PENDING).exclude(connector=None))
    ctx = ProbeContext.build() if placeholders else None
    plans = {pr.pk: _plan_connector(pr, ctx) for pr in placeholders}  # may call APIs: outside the lock
    with transaction.atomic():
        run = AuditRun.objects.select_for_update().get(pk=audit_run_id)
        if run.planned:
            return run
        for pr in placeholders:
            _apply(pr, plans[pr.pk])
        _phases_set(run)
        run.planned = True
        run.save(update_fields=["planned"])
    return run


def _apply(placeholder: ProbeRun, plan) -> None:
    if plan is None:
        return
    if isinstance(plan, str):
        placeholder.status, placeholder.finished = ProbeRun.Status.FAILED, timezone.now()
        placeholder.error = text_redact(plan)
        placeholder.save(update_fields=["status", "finished", "error"])
        return
    connector = placeholder.connector
    ProbeRun.objects.bulk_create([
        ProbeRun(audit_run_id=placeholder.audit_run_id, connector=connector, kind=placeholder.kind,
                 scope=connector_scope(connector, unit.name[:300]), unit=unit.name[:300], account=unit.account[:20],
                 unit_params={**unit.params, "phase": unit.phase}, task_id=str(uuid.uuid4()))
        for unit in plan
    ])
    placeholder.delete()


def _phases_set(run: AuditRun) -> None:
    """Phase = rank of (facts depth of the kind, the unit's own phase) among the run's units."""
    runs = list(run.probe_runs.all())
    present = {pr.kind for pr in runs}
    keys = {pr.pk: (kind_depth(pr.kind, present), int((pr.unit_params or {}).get("phase", 0))) for pr in runs}
    rank = {key: i for i, key in enumerate(sorted(set(keys.values())))}
    for pr in runs:
        pr.phase = rank[keys[pr.pk]]
    ProbeRun.objects.bulk_update(runs, ["phase"])


def unit_of(probe_run: ProbeRun) -> registry.Unit:
    params = {k: v for k, v in (probe_run.unit_params or {}).items() if k != "phase"}
    return registry.Unit(name=probe_run.unit, account=probe_run.account, params=params,
                         phase=int((probe_run.unit_params or {}).get("phase", 0)))


def phase_task_id(run: AuditRun, phase: int) -> str:
    """The Celery task id of the callback that queues `phase` (known in advance: the reaper looks for it)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"botaudit:audit:{run.pk}:{run.task_id}:phase:{phase}"))


def units_sweep(*, run: AuditRun) -> int:
    """Resolve what a connector's former units owned (a repository or region no longer planned, or
    the whole-connector scope of audits before units), when every unit of that connector was `ok`
    in this run. Findings another unit still sees move to it (the kind's reconcile_hold)."""
    resolved = 0
    by_connector: dict[int, list[ProbeRun]] = {}
    for pr in run.probe_runs.exclude(connector=None):
        by_connector.setdefault(pr.connector_id, []).append(pr)
    for connector_id, runs in by_connector.items():
        if any(pr.status != ProbeRun.Status.OK for pr in runs) or any(pr.started is None for pr in runs):
            continue
        prefix = f"connector:{connector_id}"
        stale = (Finding.objects.filter(status__in=RECONCILED_STATUSES, last_seen__lt=min(pr.started for pr in runs))
                 .filter(scope__startswith=prefix).exclude(scope__in={pr.scope for pr in runs}))
        stale = [f for f in stale if f.scope == prefix or f.scope.startswith(prefix + ":")]
        if stale:
            resolved += findings_resolve(findings=stale, hold=_hold_of(runs[0].kind),
                                         reason=f"its unit is no longer audited (audit #{run.pk})")
    return resolved


def _hold_of(kind: str):
    try:
        return registry.get(kind).reconcile_hold
    except registry.ProbeError:
        return None
