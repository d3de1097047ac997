"""Damaged repositories never make a scan spin: each object type truncated (loose) or corrupted
(in a pack) is reported by id through the real CLI, under a deadline enforced from outside (the
CLI runs as a subprocess with a timeout: libgit2 1.9 never returns from reading a truncated loose
object), and a watchdog stops any scan past BOTAUDIT_GIT_SCAN_TIME_LIMIT, worker processes too."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scanners.git.bounded import ScanStopped, bounded_call
from scanners.git.scan import engine_call
from tests.scanners.git.gitrepo import Repo, aws_key_id

ROOT = Path(__file__).resolve().parents[3]
DEADLINE = 60  # seconds; a healthy scan of these repositories takes about one


def _damaged_repo(path: Path, kind: str, packed: bool) -> tuple[str, str]:
    """A three-commit repository whose middle commit's commit, tree (d/) or blob (b.py) object is
    damaged. Returns (damaged object id, the clean leak's file)."""
    repo = Repo(path)
    repo.commit({"a.py": f"K = '{aws_key_id()}'\n", "d/x.py": "x = 1\n" * 50})
    middle = repo.commit({"d/y.py": "y = 2\n" * 50, "b.py": "bbb\n" * 100})
    repo.commit({"c.py": "z\n"})
    commit = repo.repo[middle]
    target = str({"commit": commit.id, "tree": commit.tree["d"].id, "blob": commit.tree["b.py"].id}[kind])
    git = path / ".git"
    if packed:
        subprocess.run(["git", "-C", str(path), "repack", "-adq"], check=True)
        subprocess.run(["git", "-C", str(path), "prune-packed"], check=True)
        (idx,) = (git / "objects" / "pack").glob("*.idx")
        listing = subprocess.run(["git", "verify-pack", "-v", str(idx)], capture_output=True, text=True).stdout
        fields = next(line.split() for line in listing.splitlines() if line.startswith(target))
        size, offset = int(fields[3]), int(fields[4])
        pack = idx.with_suffix(".pack")
        os.chmod(pack, 0o644)
        with open(pack, "r+b") as fh:
            fh.seek(offset + size // 2)
            fh.write(b"\xff" * max(1, size // 3))
    else:
        loose = git / "objects" / target[:2] / target[2:]
        data = loose.read_bytes()
        os.chmod(loose, 0o644)
        loose.write_bytes(data[: len(data) // 2])
    return target, "a.py"


def _cli(path: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "scan_repo", str(path), "--format", "json"],
        capture_output=True, text=True, timeout=DEADLINE, cwd=ROOT,
        env={**os.environ, "DJANGO_DEBUG": "1", "DJANGO_SETTINGS_MODULE": "botaudit.settings", **env},
    )


@pytest.mark.parametrize("packed", [False, True], ids=["loose-truncated", "pack-entry-corrupted"])
@pytest.mark.parametrize("kind", ["commit", "tree", "blob"])
def test_a_damaged_object_is_named_and_the_scan_ends(tmp_path, kind, packed):
    target, _clean = _damaged_repo(tmp_path / "r", kind, packed)
    start = time.monotonic()
    proc = _cli(tmp_path / "r")  # raises TimeoutExpired (test fails) if the scan spins
    assert time.monotonic() - start < DEADLINE
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    named = [e for e in report["errors"] if target in e and "unreadable" in e]
    assert named, report["errors"]
    if kind == "blob":  # the error says where the blob is: path and commit
        assert any(e.startswith(f"object {target} (b.py in commit ") for e in named), named
        assert [f["file"] for f in report["findings"]] == ["a.py"]  # the rest of the history still scanned


def _gone(pid: int) -> bool:
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":  # killed, waiting for its reaper
            return True
        time.sleep(0.1)
    return False


def test_the_watchdog_stops_a_scan_that_never_returns(tmp_path):
    marker = tmp_path / "worker.pid"
    start = time.monotonic()
    with pytest.raises(ScanStopped, match=r"^scan of x: stopped after 1 s \(BOTAUDIT_GIT_SCAN_TIME_LIMIT\)"):
        engine_call("tests.scanners.git.engine_targets:forever", repo=None, kwargs={"marker_file": str(marker)},
                    seconds=1, what="scan of x")
    assert time.monotonic() - start < 10
    assert _gone(int(marker.read_text())), "the scanning process's own worker survived the watchdog"


def test_the_watchdog_kills_the_scans_worker_processes_too(tmp_path):
    marker = tmp_path / "grandchild.pid"

    def spawn_and_hang():
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        marker.write_text(str(child.pid))
        time.sleep(600)

    with pytest.raises(ScanStopped):
        bounded_call(spawn_and_hang, seconds=2, what="test")
    assert _gone(int(marker.read_text())), "worker process still running after the watchdog fired"


def test_results_and_errors_come_back_from_the_bounded_process():
    assert bounded_call(lambda: {"x": [1, 2]}, seconds=30, what="t") == {"x": [1, 2]}
    with pytest.raises(ValueError, match="bad rev"):
        bounded_call(lambda: (_ for _ in ()).throw(ValueError("bad rev")), seconds=30, what="t")
    with pytest.raises(ScanStopped, match="died"):
        bounded_call(lambda: os._exit(3), seconds=30, what="t")


def test_scan_repo_exits_with_a_clear_message_when_stopped(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit({"a.py": "x = 1\n"})
    # a limit no real scan can meet; the CLI must end with the watchdog's message, not a traceback
    proc = _cli(tmp_path / "r", BOTAUDIT_GIT_SCAN_TIME_LIMIT="0.000001")
    assert proc.returncode != 0 and "stopped after 1e-06 s (BOTAUDIT_GIT_SCAN_TIME_LIMIT)" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
