"""Periodic tasks in django-celery-beat. Created when missing; edits made in the admin stay."""

from django.conf import settings
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

AUDIT_TASK_NAME = "botaudit: audit the fleet"
DIGEST_TASK_NAME = "botaudit: weekly digest"


def _ensure(*, name: str, task: str, **schedule) -> tuple[PeriodicTask, bool]:
    periodic, created = PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, **schedule})
    if not created and periodic.task != task:  # code moved the task; keep the admin's schedule
        periodic.task = task
        periodic.save(update_fields=["task"])
    return periodic, created


def schedules_setup() -> list[tuple[str, bool]]:
    """Idempotent: returns (name, created) for every schedule BotAudit needs."""
    every, _ = IntervalSchedule.objects.get_or_create(
        every=settings.BOTAUDIT_AUDIT_INTERVAL_HOURS, period=IntervalSchedule.HOURS
    )
    results = [_ensure(name=AUDIT_TASK_NAME, task="scanners.tasks.audit_fleet", interval=every)]
    results.append(_ensure(name=DIGEST_TASK_NAME, task="scanners.digest.tasks.send_weekly_digests",
                           crontab=crontab_get(minute="0", hour="8", day_of_week="1")))  # Monday 08:00
    return [(p.name, created) for p, created in results]


def crontab_get(*, minute="0", hour="*", day_of_week="*") -> CrontabSchedule:
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute=minute, hour=hour, day_of_week=day_of_week, day_of_month="*", month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    return schedule
