"""The scanning process: `python -P -m scanners.git.engine`, a fresh interpreter that imports the
scanner only (pygit2, hyperscan, RE2; Django's settings, never its apps), started by
`scan.engine_call` for every bounded history scan. Started fresh rather than forked, it does not
inherit the caller's memory (a Celery worker or `manage.py`, 80+ MB), and neither do the worker
processes it forks in turn: celery's full history peaked at 589 MB summed RSS over the process tree
when the scan was forked from `manage.py`, 232 MB this way.

It reads one job from standard input, a pickle of (target "module:function", settings, repository
path or None, keyword arguments pickled on their own: unpickled once the settings are in place),
runs it with those settings (the fingerprint key comes this way, never on the command line or in
the environment) and writes back a pickle of (True, result) or (False, exception). `-P`: nothing in the caller's
working directory (a checkout being scanned) is importable.

With `--cli FD` it is what a `scan_repo` command line became (scan.engine_exec): the supervisor,
which forks the job bounded in time and prints the report the job returns."""

from __future__ import annotations

import importlib
import os
import pickle
import sys

from . import bounded


def job_run(job: bytes):
    target, values, repo_path, kwargs = pickle.loads(job)  # noqa: S301 - written by our own parent, a private pipe
    from django.conf import settings

    if not settings.configured:
        settings.configure(**values)
    # only now: rebuilding the arguments (a Detector compiles its databases) may read the settings
    kwargs = pickle.loads(kwargs)  # noqa: S301 - as above
    module, name = target.split(":")
    fn = getattr(importlib.import_module(module), name)
    if repo_path is not None:
        import pygit2

        from .walker import reads_fast

        reads_fast()  # before the repository's packs are first mapped (their window size is fixed then)
        kwargs["repo"] = pygit2.Repository(repo_path, flags=pygit2.enums.RepositoryOpenFlag.NO_SEARCH)
    return fn(**kwargs)


def cli_supervise(fd: int) -> int:
    """`--cli FD` (scan.engine_exec): FD holds (seconds, what, job). The job runs in a forked child
    bounded by `seconds` (bounded.bounded_call: this process imports nothing else and stays ~10 MB)
    and returns (text, exit code): printed and returned here. An error is printed as
    `manage.py` prints a CommandError, exit code 2."""
    with os.fdopen(fd, "rb") as file:
        file.seek(0)
        seconds, what, job = pickle.loads(file.read())  # noqa: S301 - written by the process this one replaced
    try:
        text, code = bounded.bounded_call(lambda: job_run(job), seconds=seconds, what=what)
    except Exception as exc:  # noqa: BLE001 - every error ends the command the same way
        sys.stderr.write(f"CommandError: {exc}\n")
        return 2
    sys.stdout.write(text if text.endswith("\n") else f"{text}\n")
    sys.stdout.flush()
    return code


def main() -> None:
    if sys.argv[1:2] == ["--cli"]:
        sys.exit(cli_supervise(int(sys.argv[2])))
    job = sys.stdin.buffer.read()
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything else written to standard output (a library, a worker) goes to stderr
    payload = bounded.reply(lambda: job_run(job))
    out.write(payload)
    out.close()


if __name__ == "__main__":
    main()
