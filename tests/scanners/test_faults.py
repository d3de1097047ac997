"""Faults end to end, with real Celery worker processes, beat and a Redis server of the test's own:
a worker process group killed with SIGKILL mid-probe, and a Redis restart that loses the queued
probes and the chord. Each time the audit ends (partial) within a bounded time after a worker is
back, nothing already recorded is lost and no run stays `running`. The time limit and the reaper's
grace are a few seconds here (BOTAUDIT_PROBE_TIME_LIMIT / BOTAUDIT_REAPER_GRACE_SECONDS)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django_celery_beat.models import PeriodicTask

from inventory.models import Connector
from scanners import registry
from scanners.models import AuditRun, Finding, ProbeRun
from scanners.services.audit import connector_scope
from scanners.services.findings import Draft, findings_upsert
from scanners.services.schedules import REAPER_TASK_NAME, schedules_setup
from tests.helpers import free_port
from tests.scanners.fault_probe import fault_thing, kind_register

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).parent / "celery")
TIME_LIMIT, GRACE = 6, 2
BOUND = TIME_LIMIT + GRACE + 15  # seconds from a worker being back to the audit having ended

pytestmark = pytest.mark.django_db(transaction=True)


class Redis:
    """A redis-server of this test's own, without persistence: a restart loses everything."""

    def __init__(self, tmp_path):
        self.port, self.dir, self.proc = free_port(), tmp_path, None

    def start(self):
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.dir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _until(lambda: subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True,
                                      text=True).stdout.strip() == "PONG", timeout=10, what="redis-server up")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    server = Redis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fault_kind():
    kind_register()
    yield
    registry.unregister("faultprobe")


def _until(predicate, *, timeout, what, poll=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for: {what}")


def _env(redis_server):
    return dict(os.environ, DJANGO_SETTINGS_MODULE="botaudit.settings_test",
                DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
                REDIS_URL=f"redis://127.0.0.1:{redis_server.port}/0", BOTAUDIT_PROBE_TIME_LIMIT=str(TIME_LIMIT),
                BOTAUDIT_REAPER_GRACE_SECONDS=str(GRACE), BOTAUDIT_REAPER_INTERVAL_SECONDS="1",
                BOTAUDIT_PROBE_MAX_RETRIES="0")


def _start(env, tmp_path, *args, name):
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([CELERY, "-A", "tests.scanners.fault_app", *args], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def _worker(env, tmp_path, name):
    return _start(env, tmp_path, "worker", "--pool", "prefork", "--concurrency", "1",
                  "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO",
                  "--hostname", f"{name}@%h", name=name)


def _stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _stop_all(*procs, cli):
    for proc in procs:
        if proc:
            _stop(proc)
    if cli and cli.poll() is None:
        cli.kill()


def _ended_partial(cli, out, err, *, took, since):
    """`audit --wait --json` ended with the audit partial (exit 2), within the bound."""
    assert cli.returncode == 2, err
    result = json.loads(out)
    assert result["status"] == "partial", result
    assert took < BOUND, f"the audit ended {took:.1f} s after {since}"
    return result


def _audit_cli(env):
    return subprocess.Popen([sys.executable, "manage.py", "audit", "--wait", "--json", "--timeout", "120"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _probe(name):
    return ProbeRun.objects.filter(connector__name=name).order_by("-pk").first()


def _recorded_before(connector):
    """What an earlier audit recorded in this connector's scope: must stay open through the fault."""
    draft = Draft(check=fault_thing, hit=registry.Hit(subject=f"recorded-before:{connector.name}"))
    findings_upsert(drafts=[draft], scope=connector_scope(connector))
    return Finding.objects.get(fingerprint=draft.fingerprint)


def test_worker_group_killed_mid_probe_the_audit_ends_after_a_worker_is_back(redis_server, fault_kind, tmp_path):
    slow = Connector.objects.create(name="slow", kind="faultprobe", options={"sleep": 60, "subjects": ["never"]})
    before = _recorded_before(slow)
    env = _env(redis_server)
    first = _worker(env, tmp_path, "first")
    cli = second = None
    try:
        cli = _audit_cli(env)
        _until(lambda: getattr(_probe("slow"), "status", "") == "running", timeout=60, what="slow probe running")
        os.killpg(first.pid, signal.SIGKILL)  # the worker and its pool processes, mid-probe
        first.wait(timeout=10)
        back = time.monotonic()
        second = _worker(env, tmp_path, "second")
        out, err = cli.communicate(timeout=BOUND + 30)
        took = time.monotonic() - back
    finally:
        _stop_all(first, second, cli=cli)
    _ended_partial(cli, out, err, took=took, since="the worker was back")
    probe = _probe("slow")
    assert probe.status == "failed" and "worker killed" in probe.error, probe.error
    assert ProbeRun.objects.get(audit_run=probe.audit_run, kind="inventory").status == "ok"
    before.refresh_from_db()
    assert before.status == "open"  # a failed probe resolves nothing
    assert not Finding.objects.filter(subject="never").exists()
    assert not ProbeRun.objects.filter(status__in=["running", "pending"]).exists()
    assert not AuditRun.objects.filter(finished__isnull=True).exists()


def test_redis_restart_losing_the_chord_the_reaper_ends_the_audit(redis_server, fault_kind, tmp_path, settings):
    settings.BOTAUDIT_REAPER_INTERVAL_SECONDS = 1
    schedules_setup()
    PeriodicTask.objects.exclude(name=REAPER_TASK_NAME).update(enabled=False)  # only the reaper ticks here
    for name in ("left", "right"):
        Connector.objects.create(name=name, kind="faultprobe", options={"sleep": 4, "subjects": [f"seen-{name}"]})
    before = {name: _recorded_before(Connector.objects.get(name=name)) for name in ("left", "right")}
    env = _env(redis_server)
    worker = _worker(env, tmp_path, "worker")
    beat = _start(env, tmp_path, "beat", "--max-interval", "1", "--schedule", str(tmp_path / "beat.db"), name="beat")
    cli = None
    try:
        cli = _audit_cli(env)
        _until(lambda: ProbeRun.objects.filter(kind="faultprobe", status="running").exists(), timeout=60,
               what="a probe running")
        running = ProbeRun.objects.get(kind="faultprobe", status="running").connector.name
        queued = ({"left", "right"} - {running}).pop()
        assert _probe(queued).status == "pending"  # one worker process: it waits in the queue
        redis_server.stop()  # everything in Redis is gone: the queued probe, the chord's counter
        redis_server.start()
        back = time.monotonic()
        out, err = cli.communicate(timeout=BOUND + 30)
        took = time.monotonic() - back
    finally:
        _stop_all(worker, beat, cli=cli)
    result = _ended_partial(cli, out, err, took=took, since="Redis was back")
    run = AuditRun.objects.get(pk=result["audit_run"])
    assert "reaper" in run.error
    assert _probe(running).status == "ok"  # it was running: it finished and kept what it saw
    assert Finding.objects.get(subject=f"seen-{running}").status == "open"
    lost = _probe(queued)
    assert lost.status == "failed" and "no longer queued" in lost.error
    assert not Finding.objects.filter(subject=f"seen-{queued}").exists()
    before[queued].refresh_from_db()
    assert before[queued].status == "open"  # nothing recorded is lost: the lost probe resolved nothing
    before[running].refresh_from_db()
    assert before[running].status == "resolved"  # the ok probe reconciled as usual
    assert not ProbeRun.objects.filter(status__in=["running", "pending"]).exists()


def test_worker_killed_mid_unit_that_unit_fails_the_others_keep_their_results(redis_server, fault_kind, tmp_path):
    """Units of one connector, each its own task: the one running when its worker is SIGKILLed is
    redelivered and failed (never left running, never resolving), the others run and keep theirs."""
    units = [{"name": "first", "sleep": 0, "subjects": ["seen-first"]},
             {"name": "slow", "sleep": 60, "subjects": ["never"]},
             {"name": "last", "sleep": 0, "subjects": ["seen-last"]}]
    conn = Connector.objects.create(name="units", kind="faultprobe", options={"units": units})
    draft = Draft(check=fault_thing, hit=registry.Hit(subject="recorded-before:slow"))
    findings_upsert(drafts=[draft], scope=connector_scope(conn, "slow"))
    env = _env(redis_server)
    first = _worker(env, tmp_path, "first")
    cli = second = None
    try:
        cli = _audit_cli(env)
        _until(lambda: ProbeRun.objects.filter(unit="slow", status="running").exists(), timeout=60,
               what="the slow unit running")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        back = time.monotonic()
        second = _worker(env, tmp_path, "second")
        out, err = cli.communicate(timeout=BOUND + 30)
        took = time.monotonic() - back
    finally:
        _stop_all(first, second, cli=cli)
    result = _ended_partial(cli, out, err, took=took, since="the worker was back")
    by_unit = {p["unit"]: p for p in result["probes"] if p["kind"] == "faultprobe"}
    assert by_unit["first"]["status"] == by_unit["last"]["status"] == "ok"
    assert by_unit["slow"]["status"] == "failed" and "worker killed" in by_unit["slow"]["error"]
    assert Finding.objects.get(subject="seen-first").status == "open"
    assert Finding.objects.get(subject="seen-last").status == "open"
    assert Finding.objects.get(fingerprint=draft.fingerprint).status == "open"  # the killed unit resolved nothing
    assert not Finding.objects.filter(subject="never").exists()
    assert not ProbeRun.objects.filter(status__in=["running", "pending"]).exists()
