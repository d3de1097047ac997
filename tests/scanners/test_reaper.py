"""The reaper's rules, one by one, on the real Redis broker (REDIS_URL's db) and PostgreSQL."""

import json
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from scanners.models import AuditRun, Finding, ProbeRun
from scanners.services.audit import audit_run_finish, audit_run_start, probe_run_claim, probe_run_execute
from scanners.services.reaper import runs_reap

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker(settings):
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    from scanners.services.reaper import queue_names

    queue = "audit"  # where audit_fleet waits (settings.CELERY_TASK_ROUTES); the reaper reads every queue
    client.delete(*queue_names(), "unacked")
    yield client, queue
    client.delete(*queue_names(), "unacked")


def _age(run, seconds):
    when = timezone.now() - timedelta(seconds=seconds)
    AuditRun.objects.filter(pk=run.pk).update(started=when)
    return when


def _stale(settings):
    return settings.BOTAUDIT_PROBE_TIME_LIMIT + settings.BOTAUDIT_REAPER_GRACE_SECONDS + 1


def test_a_probe_running_past_the_limit_and_grace_is_failed_and_its_audit_ended(test_connector, test_probe, settings,
                                                                                broker):
    run = audit_run_start(connector_names=["test-conn"])
    _age(run, _stale(settings) + 10)
    probe_run_execute(probe_run_id=run.probe_runs.get(kind="inventory").pk)
    ProbeRun.objects.filter(audit_run=run, kind="testprobe").update(
        status="running", started=timezone.now() - timedelta(seconds=_stale(settings)))
    assert runs_reap() == {"probes": 1, "audits": 1}
    probe = run.probe_runs.get(kind="testprobe")
    assert probe.status == "failed" and "ended by the reaper" in probe.error and "worker killed or hung" in probe.error
    run.refresh_from_db()
    assert run.status == "partial" and run.finished and "ended by the reaper" in run.error
    assert runs_reap() == {"probes": 0, "audits": 0}  # idempotent


def test_a_probe_still_within_its_limit_is_left_alone(test_connector, test_probe, settings, broker):
    run = audit_run_start(connector_names=["test-conn"])
    ProbeRun.objects.filter(audit_run=run).update(status="running", started=timezone.now())
    assert runs_reap() == {"probes": 0, "audits": 0}
    assert not AuditRun.objects.get(pk=run.pk).finished


def test_pending_probes_whose_messages_are_gone_from_the_broker_are_failed(test_connector, test_probe, settings,
                                                                          broker):
    client, queue = broker
    kept = audit_run_start(connector_names=["test-conn"])
    lost = audit_run_start(connector_names=["test-conn"])
    for run in (kept, lost):
        _age(run, settings.BOTAUDIT_REAPER_GRACE_SECONDS + 5)
    # kept: its probes' messages are still queued / reserved by a worker (unacked)
    inventory, probe = kept.probe_runs.order_by("pk")
    client.lpush(queue, json.dumps({"headers": {"id": inventory.task_id}, "body": ""}))
    client.hset("unacked", "tag-1", json.dumps([{"headers": {"id": probe.task_id}, "body": ""}, "", queue]))
    assert runs_reap() == {"probes": 2, "audits": 1}
    assert set(kept.probe_runs.values_list("status", flat=True)) == {"pending"}
    assert set(lost.probe_runs.values_list("status", flat=True)) == {"failed"}
    assert all("no longer queued" in e for e in lost.probe_runs.values_list("error", flat=True))
    lost.refresh_from_db()
    assert lost.status == "failed" and lost.finished


def test_pending_probes_of_an_audit_whose_dispatch_task_is_queued_are_kept(test_connector, test_probe, settings,
                                                                          broker):
    client, queue = broker
    run = audit_run_start(connector_names=["test-conn"], task_id="audit-task-still-queued")
    _age(run, settings.BOTAUDIT_REAPER_GRACE_SECONDS + 5)
    client.lpush(queue, json.dumps({"headers": {"id": "audit-task-still-queued"}, "body": ""}))
    assert runs_reap() == {"probes": 0, "audits": 0}


def test_an_audit_whose_probes_all_finished_but_whose_completion_was_lost_is_finished(test_connector, test_probe,
                                                                                     settings, broker, make_bot):
    bot = make_bot("scored")
    run = audit_run_start(connector_names=["test-conn"])
    for probe in run.probe_runs.all():
        probe_run_execute(probe_run_id=probe.pk)
    assert runs_reap() == {"probes": 0, "audits": 0}  # within the grace: the chord's callback may be on its way
    hour_ago = timezone.now() - timedelta(seconds=60 * 60)
    ProbeRun.objects.filter(audit_run=run).update(started=hour_ago, finished=hour_ago)
    _age(run, 2 * 60 * 60)
    assert runs_reap() == {"probes": 0, "audits": 1}
    run.refresh_from_db()
    assert run.status == "ok" and "completion was lost" in run.error and run.scores.filter(bot=bot).exists()
    assert audit_run_finish(audit_run_id=run.pk).finished == run.finished  # finishing again changes nothing


def test_a_probe_that_finishes_after_it_was_reaped_keeps_nothing(test_connector, test_probe, settings, broker):
    import scanners.services.audit as audit_service

    run = audit_run_start(connector_names=["test-conn"])
    claimed = probe_run_claim(probe_run_id=run.probe_runs.get(kind="testprobe").pk)
    ProbeRun.objects.filter(pk=claimed.pk).update(started=timezone.now() - timedelta(seconds=_stale(settings)))
    runs_reap()  # ends it while "collect" is still going on
    claimed.started = ProbeRun.objects.get(pk=claimed.pk).started
    outcome = audit_service.probe_checks_run(kind=audit_service.registry.get("testprobe"),
                                             collected=audit_service.registry.Collected(observations=[("x", None)]),
                                             ctx=None, label="test-conn")
    with pytest.raises(audit_service.ProbeAbandoned):
        audit_service.probe_run_commit(probe_run=claimed, outcome=outcome, now=timezone.now())
    assert ProbeRun.objects.get(pk=claimed.pk).status == "failed"
    assert not Finding.objects.exists()
