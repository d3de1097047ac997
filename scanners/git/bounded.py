"""Run a function in a child process bounded in time: past the limit the child's whole process group
(its worker processes too) is killed and ScanStopped raised, so a libgit2 read that never returns
cannot keep a scan, a probe or an audit running. Imports nothing heavy: the scanning supervisor
(engine.py --cli) is this module, a fork and a wait, and stays ~10 MB."""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import subprocess
import time


class ScanStopped(ValueError):
    """The scan went past BOTAUDIT_GIT_SCAN_TIME_LIMIT, or its process died; the message says which."""


def reply(fn) -> bytes:
    """pickle of (True, fn()) or (False, the exception fn raised)."""
    try:
        return pickle.dumps((True, fn()))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        try:
            return pickle.dumps((False, exc))
        except Exception:  # noqa: BLE001
            return pickle.dumps((False, ValueError(f"{type(exc).__name__}: {exc}")))


def bounded_call(fn, *, seconds: float, what: str):
    """fn() in a forked child process, in its own process group, its result pickled back through a
    pipe (see `result_await`). For small scans: a fork costs nothing to start."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read_end)
        os.setpgid(0, 0)
        payload = reply(fn)
        with os.fdopen(write_end, "wb") as out:
            out.write(payload)
        os._exit(0)
    os.close(write_end)
    try:
        return result_await(pid, read_end, seconds, what, lambda: status_text(os.waitpid(pid, 0)[1]))
    finally:
        os.close(read_end)


def result_await(pid: int, read_end: int, seconds: float, what: str, reap):
    """The result the process `pid` pickles back through `read_end`. Past `seconds` its whole group
    (the scan's worker processes too) is killed and ScanStopped raised: a libgit2 read that never
    returns cannot keep a scan, a probe or an audit running. `reap()` waits for the process and
    says how it ended."""
    chunks, deadline = [], time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([read_end], [], [], left)[0]:
            _group_kill(pid)
            reap()
            raise ScanStopped(f"{what}: stopped after {seconds:g} s (BOTAUDIT_GIT_SCAN_TIME_LIMIT); "
                              "a damaged object may make reading never return")
        chunk = os.read(read_end, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    ended = reap()
    if not chunks:
        raise ScanStopped(f"{what}: the scanning process died ({ended})")
    ok, value = pickle.loads(b"".join(chunks))  # noqa: S301 - written by our own child, a private pipe
    if not ok:
        raise value
    return value


def wait_status(proc: subprocess.Popen) -> int:
    """Popen's return code as a waitpid status (for `status_text`)."""
    code = proc.wait()
    return (-code) if code < 0 else code << 8


def _group_kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def status_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.WEXITSTATUS(status)}"
