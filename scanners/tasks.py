"""Celery tasks: thin wrappers over the audit services. Arguments are ids; tasks are idempotent.

Every task has an explicit name (`botaudit.…`), so beat rows and queued messages survive code moves.
"""

import logging

from celery import chord, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from kombu.exceptions import OperationalError
from kombu.utils.url import maybe_sanitize_url

from .models import AuditRun, ProbeRun
from .registry import ProbeError, ProbeUnavailable
from .services.acceptance import findings_acceptance_expire
from .services.audit import (
    FINISHED,
    AuditBusy,
    audit_run_abort,
    audit_run_finish,
    audit_run_start,
    probe_run_execute,
    probe_run_give_up,
)
from .services.plan import audit_run_plan, phase_task_id
from .services.reaper import runs_reap

log = logging.getLogger(__name__)


class BrokerUnavailable(ProbeError):
    """The Celery broker cannot be reached; the message names its URL (password masked)."""


def broker_url_redacted() -> str:
    return maybe_sanitize_url(settings.CELERY_BROKER_URL, mask="***")


PROBE_QUEUES = ("git", "aws", "vault")  # kinds with a queue of their own; every other kind runs on `audit`


def probe_queue(kind: str) -> str:
    """The queue of a unit of `kind`: `probe.git`, `probe.aws`, `probe.vault`; `audit` for the rest."""
    return f"probe.{kind}" if kind in PROBE_QUEUES else "audit"


def audit_run_dispatch(*, run: AuditRun) -> None:
    """Plan the units (once), then queue the first phase. See services/plan.py for the phases."""
    run = audit_run_plan(audit_run_id=run.pk)
    phase_dispatch(run=run, phase=0)


def phase_dispatch(*, run: AuditRun, phase: int) -> None:
    """Queue the units of `phase` as one chord whose callback queues the next phase (the last one
    scores). Only once every earlier phase has finished, and only while none of its units has
    started: a redelivered callback queues nothing twice.
    A phase with nothing left to run (its units' planning failed) passes on to the next at once."""
    if run.finished or run.probe_runs.filter(phase__lt=phase).exclude(status__in=FINISHED).exists():
        return  # an early duplicate of this callback (a redelivered fan-out): the real one comes later
    later = sorted(set(run.probe_runs.filter(phase__gt=phase).values_list("phase", flat=True)))
    units = list(run.probe_runs.filter(phase=phase).order_by("pk"))
    if any(pr.started or pr.status not in (ProbeRun.Status.PENDING, *FINISHED) for pr in units):
        return  # queued already (this is another delivery of the same callback)
    todo = [pr for pr in units if pr.status == ProbeRun.Status.PENDING]
    if later:
        nxt = audit_phase.si(run.pk, later[0]).set(task_id=phase_task_id(run, later[0]))
    else:
        nxt = finish_audit.si(run.pk)
    if not todo:
        nxt.apply_async()
        return
    chord(run_probe.si(pr.pk).set(task_id=pr.task_id, queue=probe_queue(pr.kind)) for pr in todo)(nxt)


def audit_enqueue(*, trigger: str, connector_names: list[str] | None = None) -> AuditRun:
    """Create the run here and hand it to the workers. A broker that is down ends the run (failed,
    with the reason) and raises BrokerUnavailable naming the broker."""
    import uuid

    run = audit_run_start(trigger=trigger, connector_names=connector_names, task_id=str(uuid.uuid4()))
    try:
        audit_fleet.apply_async(kwargs={"audit_run_id": run.pk}, task_id=run.task_id, ignore_result=True)
    except OperationalError as exc:
        reason = f"cannot reach the Celery broker at {broker_url_redacted()}: {exc}"
        audit_run_abort(audit_run_id=run.pk, error=reason)
        raise BrokerUnavailable(f"{reason} (audit #{run.pk} ended as failed)") from None
    return run


@shared_task(name="botaudit.audit_fleet", bind=True, acks_late=True)
def audit_fleet(self, audit_run_id: int | None = None, trigger: str = "schedule",
                connector_names: list[str] | None = None) -> int | None:
    """Fan out one probe task per probe run of `audit_run_id` (created by the caller). Beat ticks
    pass no id: the run is created here, keyed by this task's id (a redelivery finds it again), and
    not at all while another audit of the same connectors is still running."""
    if audit_run_id is None:
        try:
            run = audit_run_start(trigger=trigger, connector_names=connector_names, task_id=self.request.id,
                                  exclusive=trigger == "schedule")
        except AuditBusy as exc:
            log.info("scheduled audit skipped: %s", exc)
            return None
    else:
        run = AuditRun.objects.get(pk=audit_run_id)
    audit_run_dispatch(run=run)
    return run.pk


@shared_task(name="botaudit.run_probe", bind=True, acks_late=True, soft_time_limit=settings.BOTAUDIT_PROBE_TIME_LIMIT,
             time_limit=settings.BOTAUDIT_PROBE_TIME_LIMIT + 60)
def run_probe(self, probe_run_id: int) -> str:
    """Never raises except to retry: a failed probe must not stop the chord from scoring."""
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    try:
        return probe_run_execute(probe_run_id=probe_run_id, raise_unavailable=True, redelivered=redelivered).status
    except SoftTimeLimitExceeded:  # raised outside collect/checks (those are failed by the pipeline)
        probe_run_give_up(probe_run_id=probe_run_id,
                          error=f"stopped: still running after {settings.BOTAUDIT_PROBE_TIME_LIMIT} s")
        return "failed"
    except ProbeUnavailable as exc:
        if self.request.retries >= settings.BOTAUDIT_PROBE_MAX_RETRIES:
            probe_run_give_up(probe_run_id=probe_run_id, error=f"gave up after retries: {exc}")
            return "failed"
        raise self.retry(exc=exc, countdown=min(300, 5 * 2 ** self.request.retries)) from exc


@shared_task(name="botaudit.audit_phase", acks_late=True)
def audit_phase(audit_run_id: int, phase: int) -> int:
    """The callback of phase n-1's chord: every unit of the earlier phases has finished; queue `phase`."""
    phase_dispatch(run=AuditRun.objects.get(pk=audit_run_id), phase=phase)
    return phase


@shared_task(name="botaudit.finish_audit", acks_late=True)
def finish_audit(audit_run_id: int) -> str:
    return audit_run_finish(audit_run_id=audit_run_id).status


@shared_task(name="botaudit.reap_stale_runs", acks_late=True)
def reap_stale_runs() -> dict:
    """Beat's safety net: end probe runs and audits that can no longer finish (services/reaper.py)."""
    return runs_reap()


@shared_task(name="botaudit.expire_risk_acceptances", acks_late=True)
def expire_risk_acceptances() -> int:
    """Beat's daily tick: reopen findings whose risk acceptance date has passed (idempotent)."""
    return findings_acceptance_expire()


from .digest.tasks import send_digest_group, send_weekly_digests  # noqa: E402,F401 - registers the digest tasks
from .notify.tasks import send_audit_webhook  # noqa: E402,F401 - registers the webhook task
