"""The scanning process: `python -P -m scanners.git.engine`, a fresh interpreter that imports the
scanner only (pygit2, hyperscan, RE2; Django's settings, never its apps), started by
`scan.bounded_call` for every bounded history scan. Started fresh rather than forked, it does not
inherit the caller's memory (a Celery worker or `manage.py`, 80+ MB) and neither do the worker
processes it forks in turn: celery's full history peaked at 589 MB summed RSS over the process tree
when the scan was forked from `manage.py`, and at less than half of that from here.

It reads one job from standard input, a pickle of (target "module:function", settings, repository
path or None, keyword arguments), runs it with those settings (the fingerprint key comes this way,
never on the command line or in the environment) and writes back a pickle of (True, result) or
(False, exception). `-P`: nothing in the caller's working directory (a checkout being scanned) is
importable."""

from __future__ import annotations

import importlib
import os
import pickle
import sys


def job_run(job: bytes):
    target, values, repo_path, kwargs = pickle.loads(job)  # noqa: S301 - written by our own parent, a private pipe
    from django.conf import settings

    if not settings.configured:
        settings.configure(**values)
    module, name = target.split(":")
    fn = getattr(importlib.import_module(module), name)
    if repo_path is not None:
        import pygit2

        from .walker import reads_fast

        reads_fast()  # before the repository's packs are first mapped (their window size is fixed then)
        kwargs["repo"] = pygit2.Repository(repo_path, flags=pygit2.enums.RepositoryOpenFlag.NO_SEARCH)
    return fn(**kwargs)


def reply(fn) -> bytes:
    """pickle of (True, fn()) or (False, the exception fn raised)."""
    try:
        return pickle.dumps((True, fn()))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        try:
            return pickle.dumps((False, exc))
        except Exception:  # noqa: BLE001
            return pickle.dumps((False, ValueError(f"{type(exc).__name__}: {exc}")))


def main() -> None:
    job = sys.stdin.buffer.read()
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything else written to standard output (a library, a worker) goes to stderr
    payload = reply(lambda: job_run(job))
    out.write(payload)
    out.close()


if __name__ == "__main__":
    main()
