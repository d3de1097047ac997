"""Celery tasks: thin wrappers over the audit services. Arguments are ids; tasks are idempotent."""

from celery import chord, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from .registry import ProbeUnavailable
from .services.audit import audit_run_finish, audit_run_start, probe_run_execute, probe_run_give_up


@shared_task(acks_late=True)
def audit_fleet(trigger: str = "schedule", connector_names: list[str] | None = None) -> int:
    """Fan out one probe task per enabled connector, then score once all have finished."""
    run = audit_run_start(trigger=trigger, connector_names=connector_names)
    probe_ids = list(run.probe_runs.values_list("pk", flat=True))
    chord(run_probe.si(pk) for pk in probe_ids)(finish_audit.si(run.pk))
    return run.pk


@shared_task(bind=True, acks_late=True, soft_time_limit=settings.BOTAUDIT_PROBE_TIME_LIMIT,
             time_limit=settings.BOTAUDIT_PROBE_TIME_LIMIT + 60)
def run_probe(self, probe_run_id: int) -> str:
    """Never raises except to retry: a failed probe must not stop the chord from scoring."""
    try:
        return probe_run_execute(probe_run_id=probe_run_id, raise_unavailable=True).status
    except SoftTimeLimitExceeded:  # raised outside collect/checks (those are failed by the pipeline)
        probe_run_give_up(probe_run_id=probe_run_id,
                          error=f"stopped: still running after {settings.BOTAUDIT_PROBE_TIME_LIMIT} s")
        return "failed"
    except ProbeUnavailable as exc:
        if self.request.retries >= settings.BOTAUDIT_PROBE_MAX_RETRIES:
            probe_run_give_up(probe_run_id=probe_run_id, error=f"gave up after retries: {exc}")
            return "failed"
        raise self.retry(exc=exc, countdown=min(300, 5 * 2 ** self.request.retries)) from exc


@shared_task(acks_late=True)
def finish_audit(audit_run_id: int) -> str:
    return audit_run_finish(audit_run_id=audit_run_id).status

from .digest.tasks import send_digest_group, send_weekly_digests  # noqa: E402,F401 - registers the digest tasks
