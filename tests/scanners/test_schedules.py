from io import StringIO

import pytest
from django.core.management import call_command
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from scanners.services.schedules import AUDIT_TASK_NAME

pytestmark = pytest.mark.django_db


def test_setup_schedules_is_idempotent_and_keeps_admin_edits(settings):
    settings.BOTAUDIT_AUDIT_INTERVAL_HOURS = 6
    out = StringIO()
    call_command("setup_schedules", stdout=out)
    assert f"created: {AUDIT_TASK_NAME}" in out.getvalue()
    task = PeriodicTask.objects.get(name=AUDIT_TASK_NAME)
    assert task.task == "scanners.tasks.audit_fleet"
    assert (task.interval.every, task.interval.period) == (6, IntervalSchedule.HOURS)

    # An admin changes the interval and disables it; setup_schedules must not undo that.
    task.interval = IntervalSchedule.objects.create(every=12, period=IntervalSchedule.HOURS)
    task.enabled = False
    task.save()
    out = StringIO()
    call_command("setup_schedules", stdout=out)
    assert f"kept: {AUDIT_TASK_NAME}" in out.getvalue()
    task.refresh_from_db()
    assert task.interval.every == 12 and task.enabled is False
    assert PeriodicTask.objects.filter(name=AUDIT_TASK_NAME).count() == 1
