"""The whole demo fleet (examples/fleet.yaml, every demo seeder against real moto and OpenBao servers
and real git repositories), with its 12 weeks of backdated history and a real audit today, as
`make demo` builds it: the history goes through the real pipeline, and the risk score ranks it."""

import contextlib
import secrets
import socket
import subprocess
import sys
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command

from dashboard.bot_page import bot_page_data
from devtools.demo import DEMO_SEEDERS
from devtools.demo_history import TRIGGER, WEEKS, demo_history_seed
from devtools.demo_ports import demo_connectors_point
from devtools.openbao import dev_server_start, dev_server_stop
from inventory.accounts import user_grant
from inventory.models import Bot
from scanners.models import AuditRun, BotScore, Finding
from scanners.selectors.findings import findings_weekly
from scanners.services.audit import audit_run_in_process
from tests.helpers import free_port

MANIFEST = Path(__file__).resolve().parents[2] / "examples" / "fleet.yaml"


def _moto_demo_server(port: int, log: Path) -> subprocess.Popen:
    """The demo's own moto server (devtools/moto_server.py, which can age keys), as `make demo` runs it."""
    proc = subprocess.Popen([sys.executable, "-m", "devtools.moto_server", "--port", str(port)],  # noqa: S603
                            cwd=MANIFEST.parents[1], stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return proc
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"the demo moto server did not start: {log.read_text()}")


@pytest.fixture
def demo_fleet(db, tmp_path, monkeypatch, settings):
    settings.BASE_DIR = tmp_path  # the git seeder writes demo/repos/ here
    settings.BOTAUDIT_GIT_CACHE_DIR = str(tmp_path / "git-cache")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in (("AWS_ACCESS_KEY_ID", "demo"), ("AWS_SECRET_ACCESS_KEY", "demo"),
                        ("AWS_DEFAULT_REGION", "us-east-1"), ("AWS_CONFIG_FILE", str(tmp_path / "none")),
                        ("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))):
        monkeypatch.setenv(name, value)
    aws_port, port, token = free_port(), free_port(), "demo-" + secrets.token_hex(6)
    moto = _moto_demo_server(aws_port, tmp_path / "moto.log")
    proc = dev_server_start(port=port, root_token=token, log_path=tmp_path / "bao.log")
    monkeypatch.setenv("VAULT_TOKEN", token)
    monkeypatch.setenv("DEMO_VAULT_PORT", str(port))
    monkeypatch.setenv("DEMO_AWS_PORT", str(aws_port))
    try:
        call_command("fleet", "import", str(MANIFEST), stdout=open("/dev/null", "w"))  # noqa: SIM115
        demo_connectors_point()
        for seeder in DEMO_SEEDERS:
            assert "skipped" not in seeder()
        history = demo_history_seed()
        today = audit_run_in_process(trigger="demo")
        yield {"history": history, "today": today}
    finally:
        dev_server_stop(proc)
        moto.terminate()
        moto.wait(timeout=10)


def _weights(score: BotScore) -> list[float]:
    return sorted(i["weight"] for i in score.breakdown["items"] if i["weight"])


def test_demo_history_and_score_ranking(demo_fleet):
    today = demo_fleet["today"]
    assert today.status == AuditRun.Status.OK
    # 12 backdated weekly audits through the pipeline, a week apart, all before today's
    runs = list(AuditRun.objects.filter(trigger=TRIGGER).order_by("pk"))
    assert len(runs) == WEEKS and all(r.status == AuditRun.Status.OK for r in runs), demo_fleet["history"]
    gaps = {round((b.started - a.started) / timedelta(days=1)) for a, b in zip(runs, runs[1:], strict=False)}
    assert gaps == {7} and runs[-1].started < today.started - timedelta(days=6)
    assert all(r.finished and r.finished - r.started < timedelta(hours=1) for r in runs)
    # findings opened over the weeks (connectors onboarded later) and resolved (inventory fixed)
    opened_weeks = {f.first_seen.date() for f in Finding.objects.all()}
    assert len(opened_weeks) >= 3
    resolved = Finding.objects.filter(status=Finding.Status.RESOLVED)
    assert resolved.count() >= 8 and len({f.resolved_at.date() for f in resolved}) >= 6
    assert all(f.resolved_at < today.started for f in resolved)
    auditor, _ = user_grant(email="aud@example.com", role="auditor")
    weekly = findings_weekly(user=auditor)
    assert sum(w["opened"] > 0 for w in weekly) >= 2 and sum(w["resolved"] > 0 for w in weekly) >= 5
    # score movement: bots whose score changed over the history; the bot page charts 13 points
    moved = [b for b in Bot.objects.filter(status="active")
             if len(set(BotScore.objects.filter(bot=b).values_list("score", flat=True))) >= 3]
    assert len(moved) >= 5
    deploy = Bot.objects.get(name="deploy-bot")
    deploy.open_findings = []
    assert len(bot_page_data(bot=deploy, now=today.started)["history"]) == WEEKS + 1

    # The score on today's fleet: no two bots with different findings share a score unless their
    # findings weigh the same; nobody saturates at 100 (the old formula put 10 of 19 bots there).
    latest = list(BotScore.objects.filter(audit_run=today).select_related("bot"))
    assert len(latest) == 19
    by_score = defaultdict(list)
    for s in latest:
        by_score[s.score].append(s)
    for score, group in by_score.items():
        assert len({tuple(_weights(s)) for s in group}) == 1, (score, [s.bot.name for s in group])
    assert max(s.score for s in latest) < 100 and len(by_score) >= 17
    for s in latest:  # the score is the breakdown's points, rounded; every active finding has its line
        assert round(sum(i["points"] for i in s.breakdown["items"])) == s.score
        active = Finding.objects.filter(bot=s.bot, status__in=["open", "acknowledged"]).count()
        assert len(s.breakdown["items"]) == active
