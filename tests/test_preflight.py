"""`make test` stops at once with one message naming what is missing and how to start it."""

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parent.parent


def _run(database_url, redis_url):
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url)
    return subprocess.run([sys.executable, "tests/preflight.py"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=30)


def test_preflight_names_unreachable_redis_and_how_to_start_it():
    port = free_port()
    result = _run(os.environ["DATABASE_URL"], f"redis://127.0.0.1:{port}/0")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"redis at 127.0.0.1:{port}" in lines[0] and "postgres at" not in lines[0]
    assert "docker-compose up -d postgres redis" in lines[0]


def test_preflight_names_both_when_both_missing():
    p1, p2 = free_port(), free_port()
    result = _run(f"postgres://postgres@127.0.0.1:{p1}/x", f"redis://127.0.0.1:{p2}/0")
    assert result.returncode == 1
    assert f"postgres at 127.0.0.1:{p1}" in result.stderr and f"redis at 127.0.0.1:{p2}" in result.stderr


def test_preflight_passes_when_services_are_up():
    result = _run(os.environ["DATABASE_URL"], os.environ["REDIS_URL"])
    assert result.returncode == 0, result.stderr
