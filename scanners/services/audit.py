"""The audit pipeline: start a run, execute each probe, finish with scores. Used in-process (the
embedded default) and by the Celery tasks alike.

A probe runs in named steps: claim -> collect -> checks -> commit. The commit is one transaction
under the probe scope's lock: findings upsert, the probe's status and counts, and reconcile, so a
crash can never leave an `ok` run that did not reconcile, and two audits of the same connector
never interleave their writes. What the probe wants to keep after that (the git scan state) runs
only once the commit succeeded (`Collected.after_commit`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inventory.locations import text_redact
from inventory.models import Connector
from inventory.services import credentials_observe

from .. import registry
from ..context import ProbeContext, facts_load
from ..models import AuditRun, ProbeRun
from ..scoring import bot_scores_compute
from .acceptance import findings_acceptance_expire
from .findings import Draft, findings_reconcile, findings_upsert
from .locks import scope_lock
from .plan import audit_run_plan, connector_scope, unit_of, units_sweep

log = logging.getLogger(__name__)

INVENTORY_SCOPE = "inventory"
FINISHED = (ProbeRun.Status.OK, ProbeRun.Status.PARTIAL, ProbeRun.Status.FAILED)
AUDIT_START_LOCK = "botaudit:audit_start"


class AuditBusy(registry.ProbeError):
    """A scheduled audit would overlap one that is still running."""


class ProbeAbandoned(Exception):
    """The probe run was ended (by the reaper) while this process was still collecting."""


def _connectors(connector_names: list[str] | None):
    if not connector_names:
        return list(Connector.objects.filter(enabled=True))
    connectors = list(Connector.objects.filter(name__in=connector_names))
    missing = sorted(set(connector_names) - {c.name for c in connectors})
    if missing:
        raise registry.ProbeError(f"unknown connector(s): {', '.join(missing)}")
    return connectors


def audit_running_over(*, connector_ids: set[int]) -> AuditRun | None:
    """An unfinished audit that still has an unfinished unit of one of the connectors (or the
    inventory probe, which every audit runs). Its expiry is the reaper's: a unit running past the
    time limit + grace, or pending without a queued message, is ended, and the audit with it."""
    from django.db.models import Q

    busy = (ProbeRun.objects.filter(audit_run__finished__isnull=True)
            .filter(Q(connector_id__in=connector_ids) | Q(scope=INVENTORY_SCOPE))
            .exclude(status__in=FINISHED).select_related("audit_run").order_by("audit_run_id").first())
    return busy.audit_run if busy else None


def audit_run_start(*, trigger: str = "manual", connector_names: list[str] | None = None,
                    task_id: str | None = None, exclusive: bool = False) -> AuditRun:
    """Create an AuditRun with one pending ProbeRun per enabled connector (plus the inventory
    probe, which always runs). Unknown connector names are an error naming them.

    Stale runs are reaped first. `task_id` (a beat tick's Celery task id) makes it idempotent: a
    redelivered task gets the run it created before. `exclusive` refuses (AuditBusy) to start while
    another audit still has an unfinished probe of the same connectors.
    """
    from .reaper import runs_reap

    runs_reap()
    with transaction.atomic():
        scope_lock(AUDIT_START_LOCK)
        if task_id and (earlier := AuditRun.objects.filter(task_id=task_id).first()):
            return earlier
        connectors = _connectors(connector_names)
        if exclusive and (busy := audit_running_over(connector_ids={c.pk for c in connectors})):
            raise AuditBusy(f"audit #{busy.pk} (started {busy.started:%Y-%m-%d %H:%M:%S}) is still running")
        run = AuditRun.objects.create(trigger=trigger, task_id=task_id)
        probe_runs = [ProbeRun(audit_run=run, kind="inventory", scope=INVENTORY_SCOPE)]
        probe_runs += [ProbeRun(audit_run=run, connector=c, kind=c.kind, scope=connector_scope(c)) for c in connectors]
        for probe_run in probe_runs:
            probe_run.task_id = str(uuid.uuid4())  # known before it is queued: the reaper looks for it
        ProbeRun.objects.bulk_create(probe_runs)
    return run


def _finish(probe_run: ProbeRun, status: str, error: str = "") -> None:
    probe_run.status = status
    probe_run.error = text_redact(error)  # probe errors quote URLs and paths: never a credential
    probe_run.finished = timezone.now()
    probe_run.save(update_fields=["status", "error", "finished", "api_calls", "counts", "facts"])


def _label(probe_run: ProbeRun) -> str:
    label = probe_run.connector.name if probe_run.connector else probe_run.kind
    return f"{label} [{probe_run.unit}]" if probe_run.unit else label


def probe_run_claim(*, probe_run_id: int, redelivered: bool = False) -> ProbeRun | None:
    """Mark the probe run `running` and return it; None when there is nothing to run.

    A finished run is left as it is. A run already `running` is another delivery of the same task:
    when its message was redelivered (its worker died) or it is past the time limit, it is failed,
    never run twice; otherwise another worker is running it right now and it is left alone.
    """
    with transaction.atomic():
        probe_run = ProbeRun.objects.select_for_update().get(pk=probe_run_id)
        if probe_run.status in FINISHED:
            return None
        limit = timedelta(seconds=settings.BOTAUDIT_PROBE_TIME_LIMIT)
        if probe_run.status == ProbeRun.Status.RUNNING:
            if probe_run.started < timezone.now() - limit:
                _finish(probe_run, ProbeRun.Status.FAILED,
                        f"stopped: still running after {limit.total_seconds():.0f} s (worker killed)")
            elif redelivered:
                _finish(probe_run, ProbeRun.Status.FAILED, "stopped: its worker was lost mid-probe (worker killed)")
            return None
        probe_run.status = ProbeRun.Status.RUNNING
        probe_run.started = timezone.now()
        probe_run.save(update_fields=["status", "started"])
    return ProbeRun.objects.select_related("connector").get(pk=probe_run_id)


@dataclass
class Outcome:
    """What collect and the checks produced, ready to be committed."""

    collected: registry.Collected
    drafts: list[Draft]
    errors: list[str]
    hold: object = None  # the kind's reconcile_hold


def probe_checks_run(*, kind: registry.ProbeKind, collected: registry.Collected, ctx: ProbeContext,
                     label: str) -> Outcome:
    """Run every check over the observations; one broken check does not lose the others' findings."""
    drafts, check_errors = [], []
    for chk in kind.checks:
        try:
            drafts.extend(Draft(check=chk, hit=hit) for hit in chk(collected.observations, ctx))
        except Exception as exc:
            log.exception("check %s failed on %s", chk.id, label)
            check_errors.append(f"check {chk.id}: {type(exc).__name__}: {exc}")
    return Outcome(collected=collected, drafts=drafts, errors=collected.errors + check_errors,
                   hold=kind.reconcile_hold)


def probe_run_commit(*, probe_run: ProbeRun, outcome: Outcome, now) -> None:
    """One transaction: credential dates, findings upsert, status and counts, reconcile.

    Raises ProbeAbandoned (and writes nothing) when the run was ended meanwhile by the reaper.
    """
    kept = (probe_run.api_calls, probe_run.facts, probe_run.counts)
    try:
        _commit(probe_run=probe_run, outcome=outcome, now=now)
    except BaseException:  # rolled back: the in-memory run must not claim what was not committed
        probe_run.api_calls, probe_run.facts, probe_run.counts = kept
        probe_run.status, probe_run.finished = ProbeRun.Status.RUNNING, None
        raise


def _commit(*, probe_run: ProbeRun, outcome: Outcome, now) -> None:
    collected = outcome.collected
    with transaction.atomic():
        scope_lock(f"botaudit:scope:{probe_run.scope}")
        current = ProbeRun.objects.select_for_update().only("status", "started").get(pk=probe_run.pk)
        if current.status != ProbeRun.Status.RUNNING or current.started != probe_run.started:
            raise ProbeAbandoned(f"{_label(probe_run)}: ended while running ({current.status})")
        probe_run.api_calls = collected.api_calls
        probe_run.facts = collected.facts
        credentials_observe(facts=collected.credential_facts, now=now)
        counts = findings_upsert(drafts=outcome.drafts, scope=probe_run.scope, probe_run=probe_run)
        probe_run.counts = {**collected.counts, "findings": len({d.fingerprint for d in outcome.drafts}), **counts}
        _finish(probe_run, ProbeRun.Status.PARTIAL if outcome.errors else ProbeRun.Status.OK, "\n".join(outcome.errors))
        probe_run.counts["resolved"] = findings_reconcile(probe_run=probe_run, hold=outcome.hold)
        probe_run.save(update_fields=["counts"])


def probe_after_commit(*, probe_run: ProbeRun, collected: registry.Collected) -> None:
    """Run the probe's after-commit hook; a failure there is recorded, the committed findings stay."""
    if collected.after_commit is None:
        return
    try:
        collected.after_commit()
    except Exception as exc:
        log.exception("after-commit step of %s failed", _label(probe_run))
        cause = text_redact(f"after commit: {type(exc).__name__}: {exc}")
        probe_run.error = "\n".join(filter(None, [probe_run.error, cause]))
        probe_run.save(update_fields=["error"])


def _probe_steps(probe_run: ProbeRun) -> None:
    label = _label(probe_run)
    kind = registry.get(probe_run.kind)
    if kind.needs_connector and probe_run.connector is None:
        raise registry.ProbeError(f"{label}: the connector of this probe run was deleted")
    ctx = ProbeContext.build(probe_run=probe_run, unit=unit_of(probe_run))
    collected = kind.collect(probe_run.connector, ctx)
    ctx.facts = facts_load(kinds=kind.uses_facts, audit_run_id=probe_run.audit_run_id)
    outcome = probe_checks_run(kind=kind, collected=collected, ctx=ctx, label=label)
    probe_run_commit(probe_run=probe_run, outcome=outcome, now=ctx.now)
    probe_after_commit(probe_run=probe_run, collected=collected)


def probe_run_execute(*, probe_run_id: int, raise_unavailable: bool = False, redelivered: bool = False) -> ProbeRun:
    """Run one probe. Idempotent: a finished probe run is left as it is.

    A ProbeError marks the probe failed (findings stay as they were). ProbeUnavailable is re-raised
    when `raise_unavailable` so the Celery task can retry with backoff.
    """
    probe_run = probe_run_claim(probe_run_id=probe_run_id, redelivered=redelivered)
    if probe_run is None:
        return ProbeRun.objects.get(pk=probe_run_id)
    label = _label(probe_run)
    try:
        _probe_steps(probe_run)
    except ProbeAbandoned as exc:
        log.warning("%s; its results were not kept", exc)
        probe_run.refresh_from_db()
    except registry.ProbeUnavailable as exc:
        if raise_unavailable:
            probe_run.status = ProbeRun.Status.PENDING
            probe_run.error = text_redact(f"{label}: {exc} (will retry)")
            probe_run.save(update_fields=["status", "error"])
            raise
        _finish(probe_run, ProbeRun.Status.FAILED, f"{label}: {exc}")
    except registry.ProbeError as exc:
        _finish(probe_run, ProbeRun.Status.FAILED, f"{label}: {exc}")
    except Exception as exc:
        log.exception("probe %s crashed", label)
        _finish(probe_run, ProbeRun.Status.FAILED, f"{label}: unexpected {type(exc).__name__}: {exc}")
    return probe_run


def probe_run_give_up(*, probe_run_id: int, error: str) -> bool:
    """Mark a probe failed (retries ran out, or reaped). False when it had finished meanwhile."""
    with transaction.atomic():
        probe_run = ProbeRun.objects.select_for_update().get(pk=probe_run_id)
        if probe_run.status in FINISHED:
            return False
        _finish(probe_run, ProbeRun.Status.FAILED, error)
    return True


def audit_run_finish(*, audit_run_id: int, error: str = "") -> AuditRun:
    """Score every bot and set the run's status from its probes. Runs also when a probe failed.

    Idempotent (a finished run is returned as it is). A run with a probe still pending or running
    is left unfinished: another delivery of the chord, or the reaper, finishes it.
    """
    with transaction.atomic():
        run = AuditRun.objects.select_for_update().get(pk=audit_run_id)
        if run.finished or run.probe_runs.exclude(status__in=FINISHED).exists():
            return run
        statuses = list(run.probe_runs.values_list("status", flat=True))
        if all(s == ProbeRun.Status.OK for s in statuses):
            run.status = AuditRun.Status.OK
        elif all(s == ProbeRun.Status.FAILED for s in statuses):
            run.status = AuditRun.Status.FAILED
        else:
            run.status = AuditRun.Status.PARTIAL
        units_sweep(run=run)
        findings_acceptance_expire()  # an expired acceptance is scored again from this audit on
        bot_scores_compute(audit_run=run)
        run.finished = timezone.now()
        run.error = error
        run.save(update_fields=["status", "finished", "error"])
        transaction.on_commit(lambda: _notify(run.pk))
    return run


def _notify(audit_run_id: int) -> None:
    """Queue the webhooks of a finished audit (scanners/notify); nothing when none is configured."""
    from ..notify.tasks import audit_webhooks_enqueue

    try:
        audit_webhooks_enqueue(audit_run_id=audit_run_id)
    except Exception:  # the audit is finished and committed; a webhook that cannot be queued is logged
        log.exception("webhooks of audit #%s could not be queued", audit_run_id)


def audit_run_abort(*, audit_run_id: int, error: str) -> AuditRun:
    """End a run whose probes can no longer run: unfinished probes failed with `error`."""
    for pr_id in ProbeRun.objects.filter(audit_run_id=audit_run_id).exclude(status__in=FINISHED).values_list(
            "pk", flat=True):
        probe_run_give_up(probe_run_id=pr_id, error=error)
    return audit_run_finish(audit_run_id=audit_run_id, error=error)


def audit_run_in_process(*, trigger: str = "manual", connector_names: list[str] | None = None,
                         progress=None) -> AuditRun:
    """The embedded default: plan the units, then run them here one after another, phase by phase."""
    run = audit_run_start(trigger=trigger, connector_names=connector_names)
    audit_run_plan(audit_run_id=run.pk)
    for probe_run in run.probe_runs.select_related("connector").order_by("phase", "pk"):
        if probe_run.status in FINISHED:  # a unit whose planning failed
            continue
        if progress:
            progress(probe_run)
        probe_run_execute(probe_run_id=probe_run.pk)
    return audit_run_finish(audit_run_id=run.pk)
