"""Periodic tasks in django-celery-beat. Created when missing; edits made in the admin stay.

Safe when two deploys run `setup_schedules` at once (one lock serialises them) and self-healing:
duplicate interval/crontab rows left by earlier races are merged into one, so `get_or_create`
never meets `MultipleObjectsReturned` again.
"""

from django.conf import settings
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from .locks import scope_lock

AUDIT_TASK_NAME = "botaudit: audit the fleet"
DIGEST_TASK_NAME = "botaudit: weekly digest"
REAPER_TASK_NAME = "botaudit: end stale audits"
ACCEPTANCE_TASK_NAME = "botaudit: reopen expired risk acceptances"
AUDIT_TASK = "botaudit.audit_fleet"
DIGEST_TASK = "botaudit.digest.send_weekly_digests"
REAPER_TASK = "botaudit.reap_stale_runs"
ACCEPTANCE_TASK = "botaudit.expire_risk_acceptances"
# Task paths of earlier releases (before tasks had explicit names) -> the names beat must send now.
MOVED_TASKS = {
    "scanners.tasks.audit_fleet": AUDIT_TASK,
    "scanners.tasks.run_probe": "botaudit.run_probe",
    "scanners.tasks.finish_audit": "botaudit.finish_audit",
    "scanners.digest.tasks.send_weekly_digests": DIGEST_TASK,
    "scanners.digest.tasks.send_digest_group": "botaudit.digest.send_digest_group",
}
SCHEDULES_LOCK = "botaudit:setup_schedules"


def _ensure(*, name: str, task: str, **schedule) -> tuple[PeriodicTask, bool]:
    periodic, created = PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, **schedule})
    if not created and periodic.task != task:  # code moved the task; keep the admin's schedule
        periodic.task = task
        periodic.save(update_fields=["task"])
    return periodic, created


def periodic_tasks_rename() -> int:
    """Point rows that still name an old task path at the task's explicit name."""
    renamed = 0
    for old, new in MOVED_TASKS.items():
        renamed += PeriodicTask.objects.filter(task=old).update(task=new)
    return renamed


def _merge(model, field: str, **identity):
    """The one row of `model` matching `identity`: created if missing, duplicates merged into the oldest."""
    rows = list(model.objects.filter(**identity).order_by("pk"))
    if not rows:
        return model.objects.create(**identity)
    keep, extra = rows[0], [r.pk for r in rows[1:]]
    if extra:
        PeriodicTask.objects.filter(**{f"{field}__in": extra}).update(**{field: keep})
        model.objects.filter(pk__in=extra).delete()
    return keep


def interval_get(*, every: int, period: str) -> IntervalSchedule:
    return _merge(IntervalSchedule, "interval", every=every, period=period)


def crontab_get(*, minute="0", hour="*", day_of_week="*") -> CrontabSchedule:
    return _merge(CrontabSchedule, "crontab", minute=minute, hour=hour, day_of_week=day_of_week,
                  day_of_month="*", month_of_year="*", timezone=settings.TIME_ZONE)


def schedules_setup() -> list[tuple[str, bool]]:
    """Idempotent: returns (name, created) for every schedule BotAudit needs."""
    with transaction.atomic():
        scope_lock(SCHEDULES_LOCK)
        periodic_tasks_rename()
        every = interval_get(every=settings.BOTAUDIT_AUDIT_INTERVAL_HOURS, period=IntervalSchedule.HOURS)
        reaper_every = interval_get(every=settings.BOTAUDIT_REAPER_INTERVAL_SECONDS, period=IntervalSchedule.SECONDS)
        monday = crontab_get(minute="0", hour="8", day_of_week="1")  # Monday 08:00
        daily = crontab_get(minute="5", hour="0")  # every day 00:05, just after a date has passed
        results = [
            _ensure(name=AUDIT_TASK_NAME, task=AUDIT_TASK, interval=every),
            _ensure(name=DIGEST_TASK_NAME, task=DIGEST_TASK, crontab=monday),
            _ensure(name=REAPER_TASK_NAME, task=REAPER_TASK, interval=reaper_every),
            _ensure(name=ACCEPTANCE_TASK_NAME, task=ACCEPTANCE_TASK, crontab=daily),
        ]
    return [(p.name, created) for p, created in results]
