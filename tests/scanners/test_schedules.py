import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from botaudit.celery import app
from scanners.services.schedules import AUDIT_TASK_NAME, DIGEST_TASK_NAME, REAPER_TASK_NAME, schedules_setup

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_setup_schedules_is_idempotent_and_keeps_admin_edits(settings):
    settings.BOTAUDIT_AUDIT_INTERVAL_HOURS = 6
    out = StringIO()
    call_command("setup_schedules", stdout=out)
    assert f"created: {AUDIT_TASK_NAME}" in out.getvalue()
    task = PeriodicTask.objects.get(name=AUDIT_TASK_NAME)
    assert task.task == "botaudit.audit_fleet"
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


@pytest.mark.django_db
def test_every_schedule_names_a_registered_task_and_the_reaper_is_scheduled(settings):
    settings.BOTAUDIT_REAPER_INTERVAL_SECONDS = 45
    schedules_setup()
    import scanners.tasks  # noqa: F401 - registers the tasks

    for periodic in PeriodicTask.objects.all():
        assert periodic.task in app.tasks, periodic.task
    reaper = PeriodicTask.objects.get(name=REAPER_TASK_NAME)
    assert reaper.task == "botaudit.reap_stale_runs"
    assert (reaper.interval.every, reaper.interval.period) == (45, IntervalSchedule.SECONDS)


@pytest.mark.django_db
def test_rows_naming_old_task_paths_are_moved_to_the_explicit_names():
    every = IntervalSchedule.objects.create(every=3, period=IntervalSchedule.HOURS)
    PeriodicTask.objects.create(name=AUDIT_TASK_NAME, task="scanners.tasks.audit_fleet", interval=every)
    PeriodicTask.objects.create(name="someone's own copy", task="scanners.digest.tasks.send_weekly_digests",
                                interval=every)
    assert (AUDIT_TASK_NAME, False) in schedules_setup()
    assert PeriodicTask.objects.get(name=AUDIT_TASK_NAME).task == "botaudit.audit_fleet"
    assert PeriodicTask.objects.get(name=AUDIT_TASK_NAME).interval.every == 3  # the schedule stays
    assert PeriodicTask.objects.get(name="someone's own copy").task == "botaudit.digest.send_weekly_digests"


@pytest.mark.django_db
def test_duplicates_left_by_an_earlier_race_are_merged(settings):
    settings.BOTAUDIT_AUDIT_INTERVAL_HOURS = 6
    hours = [IntervalSchedule.objects.create(every=6, period=IntervalSchedule.HOURS) for _ in range(3)]
    monday = dict(minute="0", hour="8", day_of_week="1", day_of_month="*", month_of_year="*",
                  timezone=settings.TIME_ZONE)
    crons = [CrontabSchedule.objects.create(**monday) for _ in range(2)]
    PeriodicTask.objects.create(name=AUDIT_TASK_NAME, task="botaudit.audit_fleet", interval=hours[2])
    PeriodicTask.objects.create(name=DIGEST_TASK_NAME, task="botaudit.digest.send_weekly_digests", crontab=crons[1])

    schedules_setup()
    schedules_setup()
    assert list(IntervalSchedule.objects.filter(every=6, period=IntervalSchedule.HOURS)) == [hours[0]]
    assert list(CrontabSchedule.objects.filter(**monday)) == [crons[0]]
    assert PeriodicTask.objects.get(name=AUDIT_TASK_NAME).interval == hours[0]
    assert PeriodicTask.objects.get(name=DIGEST_TASK_NAME).crontab == crons[0]


# Each process stops right before it creates a schedule row and waits (up to 3 s) for the other
# to get there too: without the lock both create one, with it the second waits for the first.
RACER = """
import os, sys, time
import django
django.setup()
from django_celery_beat.models import IntervalSchedule
from scanners.services.schedules import schedules_setup

barrier = sys.argv[1]
manager = IntervalSchedule.objects
create = manager.create

def create_at_barrier(**kw):
    open(os.path.join(barrier, str(os.getpid())), "w").close()
    deadline = time.monotonic() + 3
    while len(os.listdir(barrier)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    return create(**kw)

manager.create = create_at_barrier
print(schedules_setup())
"""


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_setup_schedules_create_each_schedule_once(tmp_path):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="botaudit.settings_test",
               DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
               BOTAUDIT_AUDIT_INTERVAL_HOURS="7")
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(tmp_path)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [r.communicate(timeout=60) for r in racers]
    assert all(r.returncode == 0 for r in racers), results
    assert len(os.listdir(tmp_path)) >= 1  # the barrier was reached
    assert IntervalSchedule.objects.filter(every=7, period=IntervalSchedule.HOURS).count() == 1
    assert PeriodicTask.objects.filter(name=AUDIT_TASK_NAME).count() == 1
    assert sum("True" in out for out, _ in results) == 1  # one process created, the other kept
    schedules_setup()  # and later runs keep working
