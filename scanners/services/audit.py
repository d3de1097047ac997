"""The audit pipeline: start a run, execute each probe (collect -> checks -> upsert -> reconcile),
finish with scores. Used in-process (embedded default) and by the Celery tasks alike."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inventory.locations import text_redact
from inventory.models import Connector
from inventory.services import credentials_observe

from .. import registry
from ..context import ProbeContext
from ..models import AuditRun, ProbeRun
from ..scoring import bot_scores_compute
from .findings import Draft, findings_reconcile, findings_upsert

log = logging.getLogger(__name__)

INVENTORY_SCOPE = "inventory"
FINISHED = (ProbeRun.Status.OK, ProbeRun.Status.PARTIAL, ProbeRun.Status.FAILED)


def connector_scope(connector: Connector) -> str:
    return f"connector:{connector.pk}"


@transaction.atomic
def audit_run_start(*, trigger: str = "manual", connector_names: list[str] | None = None) -> AuditRun:
    """Create an AuditRun with one pending ProbeRun per enabled connector (plus the inventory
    probe, which always runs). Unknown connector names are an error naming them."""
    connectors = Connector.objects.filter(enabled=True)
    if connector_names:
        connectors = Connector.objects.filter(name__in=connector_names)
        missing = sorted(set(connector_names) - {c.name for c in connectors})
        if missing:
            raise registry.ProbeError(f"unknown connector(s): {', '.join(missing)}")
    run = AuditRun.objects.create(trigger=trigger)
    probe_runs = [ProbeRun(audit_run=run, kind="inventory", scope=INVENTORY_SCOPE)]
    probe_runs += [
        ProbeRun(audit_run=run, connector=c, kind=c.kind, scope=connector_scope(c)) for c in connectors
    ]
    ProbeRun.objects.bulk_create(probe_runs)
    return run


def _finish(probe_run: ProbeRun, status: str, error: str = "") -> None:
    probe_run.status = status
    probe_run.error = text_redact(error)  # probe errors quote URLs and paths: never a credential
    probe_run.finished = timezone.now()
    probe_run.save(update_fields=["status", "error", "finished", "api_calls", "counts", "facts"])


def probe_run_execute(*, probe_run_id: int, raise_unavailable: bool = False) -> ProbeRun:
    """Run one probe. Idempotent: a finished probe run is left as it is.

    A ProbeError marks the probe failed (findings stay as they were). ProbeUnavailable is re-raised
    when `raise_unavailable` so the Celery task can retry with backoff.
    """
    probe_run = ProbeRun.objects.select_related("connector").get(pk=probe_run_id)
    if probe_run.status in FINISHED:
        return probe_run
    limit = timedelta(seconds=settings.BOTAUDIT_PROBE_TIME_LIMIT)
    if probe_run.status == ProbeRun.Status.RUNNING and probe_run.started < timezone.now() - limit:
        # Redelivered after its worker was killed at the hard time limit: don't run it again.
        _finish(probe_run, ProbeRun.Status.FAILED, f"stopped: still running after {limit.total_seconds():.0f} s "
                                                   "(worker killed)")
        return probe_run
    probe_run.status = ProbeRun.Status.RUNNING
    probe_run.started = timezone.now()
    probe_run.save(update_fields=["status", "started"])
    label = probe_run.connector.name if probe_run.connector else probe_run.kind
    try:
        kind = registry.get(probe_run.kind)
        if kind.needs_connector and probe_run.connector is None:
            raise registry.ProbeError(f"{label}: the connector of this probe run was deleted")
        ctx = ProbeContext.build(probe_run=probe_run)
        collected = kind.collect(probe_run.connector, ctx)
        probe_run.api_calls = collected.api_calls
        probe_run.facts = collected.facts
        credentials_observe(facts=collected.credential_facts, now=ctx.now)
        drafts, check_errors = [], []
        for chk in kind.checks:
            try:
                drafts.extend(Draft(check=chk, hit=hit) for hit in chk(collected.observations, ctx))
            except Exception as exc:  # one broken check must not lose the others' findings
                log.exception("check %s failed on %s", chk.id, label)
                check_errors.append(f"check {chk.id}: {type(exc).__name__}: {exc}")
        counts = findings_upsert(drafts=drafts, scope=probe_run.scope, probe_run=probe_run)
        probe_run.counts = {**collected.counts, "findings": len({d.fingerprint for d in drafts}), **counts}
        errors = collected.errors + check_errors
        status = ProbeRun.Status.PARTIAL if errors else ProbeRun.Status.OK
        _finish(probe_run, status, "\n".join(errors))
        probe_run.counts["resolved"] = findings_reconcile(probe_run=probe_run)
        probe_run.save(update_fields=["counts"])
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


def probe_run_give_up(*, probe_run_id: int, error: str) -> None:
    """Mark a probe failed after its retries ran out."""
    probe_run = ProbeRun.objects.get(pk=probe_run_id)
    if probe_run.status not in FINISHED:
        _finish(probe_run, ProbeRun.Status.FAILED, error)


def audit_run_finish(*, audit_run_id: int) -> AuditRun:
    """Score every bot and set the run's status from its probes. Runs also when a probe failed."""
    run = AuditRun.objects.get(pk=audit_run_id)
    for pr_id in run.probe_runs.exclude(status__in=FINISHED).values_list("pk", flat=True):
        probe_run_give_up(probe_run_id=pr_id, error="probe did not finish")
    statuses = list(run.probe_runs.values_list("status", flat=True))
    if all(s == ProbeRun.Status.OK for s in statuses):
        run.status = AuditRun.Status.OK
    elif all(s == ProbeRun.Status.FAILED for s in statuses):
        run.status = AuditRun.Status.FAILED
    else:
        run.status = AuditRun.Status.PARTIAL
    bot_scores_compute(audit_run=run)
    run.finished = timezone.now()
    run.save(update_fields=["status", "finished"])
    return run


def audit_run_in_process(*, trigger: str = "manual", connector_names: list[str] | None = None,
                         progress=None) -> AuditRun:
    """The embedded default: run every probe here, one after another."""
    run = audit_run_start(trigger=trigger, connector_names=connector_names)
    for probe_run in run.probe_runs.select_related("connector"):
        if progress:
            progress(probe_run)
        probe_run_execute(probe_run_id=probe_run.pk)
    return audit_run_finish(audit_run_id=run.pk)
