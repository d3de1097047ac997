"""The scanning process (engine.py) and the worker processes it shares a history scan with."""

import contextlib
import io
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from scanners.git import walker
from scanners.git.detector import Detector
from scanners.git.rules import rules_load
from scanners.git.scan import engine_call, repo_scan, repo_scan_unbounded
from tests.scanners.git.gitrepo import Repo, aws_key_id

CANARY = "canary-fingerprint-key-7f3a9c"


def test_the_scanning_process_is_fresh_lean_and_gets_the_key_only_by_pipe(settings, tmp_path, monkeypatch):
    settings.BOTAUDIT_FINGERPRINT_KEY = CANARY
    for name in ("pygit2", "re2", "pickle"):  # a hostile checkout being scanned from its own directory
        (tmp_path / f"{name}.py").write_text("raise SystemExit('imported from the checkout')\n")
    monkeypatch.chdir(tmp_path)
    facts = engine_call("tests.scanners.git.engine_targets:process_facts", repo=None, kwargs={"marker": CANARY},
                        seconds=60, what="t")
    assert facts["ppid"] == os.getpid() and facts["pid"] != os.getpid()
    assert facts["pgid"] == facts["pid"]  # its own process group: the watchdog kills it with its workers
    assert facts["key_matches"]
    assert CANARY.encode() not in facts["cmdline"] and CANARY.encode() not in facts["environ"]
    # none of the caller's memory: no app, model, ORM or broker was imported there
    assert not [m for m in facts["modules"] if m.startswith(("django.db", "django.apps", "celery", "rest_framework",
                                                             "inventory.models"))]
    assert str(tmp_path) not in facts["path"] and "" not in facts["path"]  # -P: the checkout imports nothing


@pytest.fixture
def history(tmp_path):
    repo = Repo(tmp_path / "r")
    for i in range(330):
        repo.commit({f"s/{i % 6}.py": f"v = {i}\n" + (f"K = '{aws_key_id()}'\n" if i % 30 == 4 else "")})
    return repo


def test_a_scan_through_the_scanning_process_equals_one_in_this_process(history):
    detector = Detector(rules_load())
    here = repo_scan_unbounded(repo=history.repo, detector=detector, workers=2)
    there = repo_scan(repo=history.repo, detector=detector, workers=2)
    assert len(there.leaks) == 11 and [vars(x) for x in there.leaks] == [vars(x) for x in here.leaks]
    assert there.stats.commits == 330 and there.errors == here.errors == []


def test_a_worker_process_that_dies_has_its_chunks_scanned_by_the_main_one(history, monkeypatch):
    main, real = os.getpid(), walker._worker_scan

    def dies_in_the_worker(chunk):  # inherited by the forked worker
        if os.getpid() != main:
            os._exit(9)
        return real(chunk)

    monkeypatch.setattr(walker, "_worker_scan", dies_in_the_worker)
    detector = Detector(rules_load())
    expected = repo_scan_unbounded(repo=history.repo, detector=detector, workers=1)
    result = repo_scan_unbounded(repo=history.repo, detector=detector, workers=2)
    assert [vars(x) for x in result.leaks] == [vars(x) for x in expected.leaks] and len(result.leaks) == 11
    assert result.stats.commits == 330
    (error,) = result.errors
    assert "scan worker process" in error and "died (exit code 9)" in error


def test_an_error_in_a_worker_process_is_raised_in_the_main_one(history, monkeypatch):
    main, real = os.getpid(), walker._worker_scan

    def fails_in_the_worker(chunk):
        if os.getpid() != main:
            raise ValueError("worker-side failure")
        return real(chunk)

    monkeypatch.setattr(walker, "_worker_scan", fails_in_the_worker)
    with pytest.raises(ValueError, match="worker-side failure"):
        repo_scan_unbounded(repo=history.repo, detector=Detector(rules_load()), workers=2)
    assert not [t for t in threading.enumerate() if "(drive)" in t.name]  # no driver thread left behind


def test_a_command_line_history_scan_hands_its_process_to_the_lean_supervisor(history, tmp_path):
    """`manage.py scan_repo` loads the project's settings but none of its apps, execs the scanning
    supervisor (same pid, its Django memory gone) and prints what the command prints in process
    (with every app loaded), with the same exit code."""
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "DJANGO_DEBUG": "1", "DJANGO_SETTINGS_MODULE": "botaudit.settings"}
    cmd = [sys.executable, "-X", "importtime", str(root / "manage.py"), "scan_repo", str(history.path),
           "--format", "json"]
    out, err = tmp_path / "out.json", tmp_path / "err.txt"
    with out.open("wb") as sink, err.open("wb") as errors:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=errors, cwd=root, env=env)
        seen = set()
        while proc.poll() is None:
            with contextlib.suppress(OSError):
                seen.add(tuple(Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")[1:4]))
            time.sleep(0.005)
    assert (b"-P", b"-m", b"scanners.git.engine") in seen, seen
    imported = {line.rsplit("|", 1)[-1].strip() for line in err.read_text().splitlines() if "|" in line}
    assert proc.returncode == 1 and "scanners.git.scan" in imported, err.read_text()[-2000:]
    assert not imported & {"scanners.probes", "scanners.models", "inventory.models", "django_tables2", "dashboard"}
    expected = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("scan_repo", str(history.path), "--format", "json", stdout=expected)
    printed, in_process = json.loads(out.read_text()), json.loads(expected.getvalue())
    assert printed["stats"].pop("seconds") > 0 and in_process["stats"].pop("seconds") > 0
    assert printed == in_process and len(printed["findings"]) == 11
