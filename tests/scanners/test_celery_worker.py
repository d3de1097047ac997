"""The audit through a real Celery worker on Redis: fan out, one failed probe, scoring after all."""

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
    assert BotScore.objects.get(audit_run=run, bot=bot).score == 20 + 8  # high + no_owner medium

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

