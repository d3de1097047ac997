"""The reaper: ends probe runs and audits that can no longer finish, as failed with a reason.

Run by beat (`botaudit.reap_stale_runs`, every BOTAUDIT_REAPER_INTERVAL_SECONDS) and at the start
of every audit. A probe run is ended when
- it is `running` past BOTAUDIT_PROBE_TIME_LIMIT + BOTAUDIT_REAPER_GRACE_SECONDS (its worker was
  killed, or it hangs where the time limit cannot reach it);
- it is `pending` and its task message is gone from the broker (a Redis restart lost the queue),
  i.e. neither its own task nor its audit's dispatching task is queued or reserved by a worker. On
  the in-process default (no broker) a pending probe is ended when its audit made no progress for
  the time limit + grace.
An audit whose probes have all finished but that is not finished (its chord's callback was lost)
is scored and finished. A probe that finishes after it was reaped keeps nothing (see
`probe_run_commit`), so nothing recorded is lost and nothing is counted twice.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from ..models import AuditRun, ProbeRun
from .audit import FINISHED, audit_run_finish, probe_run_give_up
from .plan import phase_task_id

log = logging.getLogger(__name__)

PRIORITY_SEP = "\x06\x16"  # kombu's Redis transport: queue name + sep + priority
PRIORITY_STEPS = (3, 6, 9)


def stale_after() -> timedelta:
    return timedelta(seconds=settings.BOTAUDIT_PROBE_TIME_LIMIT + settings.BOTAUDIT_REAPER_GRACE_SECONDS)


def _message_id(raw: bytes) -> str | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if isinstance(data, list):  # unacked: [message, exchange, routing_key]
        data = data[0] if data else {}
    return (data.get("headers") or {}).get("id") if isinstance(data, dict) else None


def queue_names() -> list[str]:
    """Every queue a BotAudit task can wait in (settings.CELERY_TASK_QUEUES and the default)."""
    names = [q.name for q in getattr(settings, "CELERY_TASK_QUEUES", None) or ()]
    return list(dict.fromkeys([*names, settings.CELERY_TASK_DEFAULT_QUEUE]))


def broker_task_ids() -> set[str] | None:
    """Ids of every task message queued or delivered-but-unacknowledged in the Redis broker.
    None when the broker is not Redis (in-process default) or cannot be read right now."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return None
    import redis

    keys = [key for queue in queue_names() for key in (queue, *(f"{queue}{PRIORITY_SEP}{p}" for p in PRIORITY_STEPS))]
    try:
        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        raws = [raw for key in keys for raw in client.lrange(key, 0, -1)] + list(client.hvals("unacked"))
    except redis.RedisError as exc:
        log.warning("reaper: cannot read the broker (%s); lost messages are looked for next time", type(exc).__name__)
        return None
    return {i for i in map(_message_id, raws) if i}


def _lost_pending(pending: list[ProbeRun], now) -> list[ProbeRun]:
    present = broker_task_ids()
    if present is None:
        if not settings.CELERY_BROKER_URL.startswith("memory://"):
            return []
        return [pr for pr in pending if _last_progress(pr.audit_run_id) < now - stale_after()]
    pending = [pr for pr in pending if not _waits_for_earlier_phase(pr)]
    missing = [pr for pr in pending if not _expected_ids(pr) & present]
    if not missing:
        return []
    time.sleep(0.2)  # a message moving from the queue to a worker's reserved set is in neither for a moment
    again = broker_task_ids() or set()
    return [pr for pr in missing if not _expected_ids(pr) & again]


def _expected_ids(pr: ProbeRun) -> set[str]:
    """Messages whose presence means `pr` will still be queued or run: its own task, its audit's
    fan-out, the callback that queues its phase."""
    return {pr.task_id, pr.audit_run.task_id, phase_task_id(pr.audit_run, pr.phase)} - {None, ""}


def _waits_for_earlier_phase(pr: ProbeRun) -> bool:
    """A unit of phase n is queued only once phase n-1 finished: while an earlier unit of its audit
    is unfinished (that one is reaped on its own when lost), it is not lost."""
    return pr.phase > 0 and ProbeRun.objects.filter(audit_run_id=pr.audit_run_id, phase__lt=pr.phase).exclude(
        status__in=FINISHED).exists()


def _last_progress(audit_run_id: int):
    run = AuditRun.objects.get(pk=audit_run_id)
    marks = ProbeRun.objects.filter(audit_run_id=audit_run_id).aggregate(s=Max("started"), f=Max("finished"))
    return max(m for m in (run.started, marks["s"], marks["f"]) if m)


def runs_reap(*, now=None) -> dict:
    """End stale probe runs and audits. Returns {"probes": n, "audits": n}."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.BOTAUDIT_REAPER_GRACE_SECONDS)
    unfinished = (ProbeRun.objects.filter(audit_run__finished__isnull=True).exclude(status__in=FINISHED)
                  .select_related("audit_run"))
    reaped: set[int] = set()  # audit runs with a probe ended here
    probes = 0
    limit = settings.BOTAUDIT_PROBE_TIME_LIMIT
    for pr in unfinished.filter(status=ProbeRun.Status.RUNNING, started__lt=now - stale_after()):
        if probe_run_give_up(probe_run_id=pr.pk, error=f"ended by the reaper: still running {limit} s + "
                                                       f"{grace.total_seconds():.0f} s grace after it started "
                                                       "(worker killed or hung)"):
            reaped.add(pr.audit_run_id)
            probes += 1
    pending = list(unfinished.filter(status=ProbeRun.Status.PENDING, audit_run__started__lt=now - grace))
    for pr in _lost_pending(pending, now):
        if ProbeRun.objects.filter(pk=pr.pk, status=ProbeRun.Status.PENDING).exists() and probe_run_give_up(
                probe_run_id=pr.pk, error="ended by the reaper: its task is no longer queued (broker restarted or "
                                          "the message was lost); it will run in the next audit"):
            reaped.add(pr.audit_run_id)
            probes += 1
    audits = 0
    for run in AuditRun.objects.filter(finished__isnull=True).exclude(
            probe_runs__status__in=[ProbeRun.Status.PENDING, ProbeRun.Status.RUNNING]):
        last = _last_progress(run.pk)
        if run.pk in reaped or last < now - grace:
            reason = ("ended by the reaper: some probes could not finish" if run.pk in reaped
                      else "finished by the reaper: every probe had finished but the audit's completion was lost")
            audits += bool(audit_run_finish(audit_run_id=run.pk, error=reason).finished)
    if probes or audits:
        log.warning("reaper: ended %d probe run(s) and %d audit run(s)", probes, audits)
    return {"probes": probes, "audits": audits}
