"""The audit through a real Celery worker on Redis: fan out, one failed probe, scoring after all."""

import uuid

import pytest

from inventory.models import Connector
from scanners.models import BotScore, Finding, ProbeRun
from scanners.registry import ProbeUnavailable
from scanners.selectors.runs import audit_run_wait


@pytest.mark.django_db(transaction=True)
def test_audit_fleet_through_real_worker(celery_worker, test_probe, make_bot, settings):
    from scanners.tasks import audit_fleet

    settings.BOTAUDIT_PROBE_MAX_RETRIES = 1
    bot = make_bot("worker-bot", owner="")
    Connector.objects.create(name="good", kind="testprobe")
    Connector.objects.create(name="disabled", kind="testprobe", enabled=False)
    test_probe.subjects = [("seen-by-worker", bot.pk)]

    run_id = audit_fleet.delay(trigger="test").get(timeout=30)
    run = _wait(run_id)
    assert run.status == "ok"
    assert sorted(run.probe_runs.values_list("kind", flat=True)) == ["inventory", "testprobe"]
    assert Finding.objects.filter(subject="seen-by-worker", status="open").exists()
    assert BotScore.objects.get(audit_run=run, bot=bot).score == 14  # high hygiene 10.5, no_owner 3.5 % of the rest

    # A probe whose store is unreachable: retried with backoff, then failed; scoring still happens.
    test_probe.subjects = []
    test_probe.error = ProbeUnavailable("connection refused")
    import scanners.tasks as tasks

    original = tasks.run_probe.retry

    def fast_retry(*args, **kwargs):  # keep the backoff path, without waiting seconds in a test
        kwargs["countdown"] = 0
        return original(*args, **kwargs)

    tasks.run_probe.retry = fast_retry
    try:
        run2 = _wait(audit_fleet.delay(trigger="test").get(timeout=30))
    finally:
        tasks.run_probe.retry = original
    probe = run2.probe_runs.get(kind="testprobe")
    assert probe.status == "failed" and "gave up after retries" in probe.error
    assert run2.status == "partial"
    assert Finding.objects.get(subject="seen-by-worker").status == "open"  # failed probe resolves nothing
    assert BotScore.objects.filter(audit_run=run2, bot=bot).exists()


def _wait(run_id, timeout=30):
    run = audit_run_wait(audit_run_id=run_id, timeout=timeout)
    assert run, f"audit #{run_id} did not finish: {list(ProbeRun.objects.filter(audit_run_id=run_id).values())}"
    return run


@pytest.mark.django_db(transaction=True)
def test_audit_command_wait_runs_through_worker(celery_worker, test_probe, make_bot):
    import json
    from io import StringIO

    from django.core.management import call_command

    bot = make_bot("cli-bot")
    Connector.objects.create(name="good", kind="testprobe")
    test_probe.subjects = [("via-cli", bot.pk)]
    out = StringIO()
    call_command("audit", "--wait", "--json", "--timeout", "60", stdout=out)
    data = json.loads(out.getvalue())
    assert data["status"] == "ok"
    assert any(f["subject"] == "via-cli" and f["bot"] == "cli-bot" for f in data["findings"])
    from scanners.models import AuditRun

    assert AuditRun.objects.get(pk=data["audit_run"]).trigger == "cli"



@pytest.mark.django_db(transaction=True)
def test_a_redelivered_audit_task_does_not_create_a_second_run(celery_worker, test_probe, make_bot):
    from scanners.models import AuditRun
    from scanners.tasks import audit_fleet

    bot = make_bot("redelivered-bot")
    Connector.objects.create(name="good", kind="testprobe")
    test_probe.subjects = [("once", bot.pk)]
    tick = f"beat-tick-{uuid.uuid4()}"
    first = audit_fleet.apply_async(kwargs={"trigger": "schedule"}, task_id=tick).get(timeout=30)
    again = audit_fleet.apply_async(kwargs={"trigger": "schedule"}, task_id=tick).get(timeout=30)
    assert again == first and AuditRun.objects.count() == 1
    assert _wait(first).status == "ok"

    # A run created by its caller, its task delivered twice before any probe started: still one run,
    # each probe run once, scored once.
    from scanners.services.audit import audit_run_start

    run = audit_run_start(trigger="cli", task_id=str(uuid.uuid4()))
    for _ in range(2):
        audit_fleet.apply_async(kwargs={"audit_run_id": run.pk}, task_id=run.task_id)
    assert _wait(run.pk).status == "ok"
    assert AuditRun.objects.count() == 2
    assert BotScore.objects.filter(audit_run=run, bot=bot).count() == 1
    assert Finding.objects.filter(subject="once").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_second_beat_tick_while_an_audit_runs_starts_nothing_until_it_ends(celery_worker, test_probe, settings):
    from datetime import timedelta

    from django.utils import timezone

    from scanners.models import AuditRun
    from scanners.services.audit import audit_run_start
    from scanners.tasks import audit_fleet

    Connector.objects.create(name="good", kind="testprobe")
    busy = audit_run_start(trigger="schedule")  # still running (its probes are queued elsewhere)
    assert audit_fleet.delay().get(timeout=30) is None
    assert audit_fleet.delay(trigger="schedule").get(timeout=30) is None
    assert list(AuditRun.objects.values_list("pk", flat=True)) == [busy.pk]

    # The lock expires with the run: once it is stale, the next tick reaps it and audits.
    long_ago = timezone.now() - timedelta(seconds=settings.BOTAUDIT_PROBE_TIME_LIMIT
                                          + settings.BOTAUDIT_REAPER_GRACE_SECONDS + 5)
    ProbeRun.objects.filter(audit_run=busy).update(status="running", started=long_ago)
    run_id = audit_fleet.delay().get(timeout=30)
    assert run_id and run_id != busy.pk
    assert _wait(run_id).status == "ok"
    busy.refresh_from_db()
    assert busy.status == "failed" and "reaper" in busy.error and busy.finished
    assert all("ended by the reaper" in e for e in busy.probe_runs.values_list("error", flat=True))


@pytest.mark.django_db(transaction=True)
def test_audit_wait_that_times_out_exits_2_with_a_message(test_probe, settings):
    """No worker is running: the audit cannot finish in time."""
    import redis
    from django.core.management import CommandError, call_command

    Connector.objects.create(name="good", kind="testprobe")
    broker = redis.Redis.from_url(settings.REDIS_URL)
    try:
        with pytest.raises(CommandError) as caught:
            call_command("audit", "--wait", "--timeout", "1")
    finally:
        from scanners.services.reaper import queue_names

        broker.delete(*queue_names())  # the message no worker took
    assert caught.value.returncode == 2
    assert "did not finish in 1s" in str(caught.value) and "waiting on 2 probe(s)" in str(caught.value)


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_is_down_is_a_clear_error_naming_it_without_its_password():
    import os
    import subprocess
    import sys
    from pathlib import Path

    from django.db import connection

    from scanners.models import AuditRun
    from tests.helpers import free_port

    port = free_port()  # nothing listens there
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="botaudit.settings_test",
               DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
               REDIS_URL=f"redis://:canary-broker-pw@127.0.0.1:{port}/6")
    result = subprocess.run([sys.executable, "manage.py", "audit", "--wait", "--timeout", "5"],
                            cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True,
                            timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert f"cannot reach the Celery broker at redis://:***@127.0.0.1:{port}/6" in result.stderr
    assert "Traceback" not in output and "canary-broker-pw" not in output
    run = AuditRun.objects.get()
    assert run.status == "failed" and run.finished and "cannot reach the Celery broker" in run.error
    assert "canary-broker-pw" not in run.error
