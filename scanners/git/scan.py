"""One repository scan: pick the refs, walk new history, mark what is still at the tip of the
default branch, drop baselined leaks. Shared by `manage.py scan_repo` and the git probe."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import pickle
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pygit2
from django.conf import settings

from .bounded import result_await, status_text, wait_status
from .mirror import loose_damaged
from .walker import Leak, Stats, history_scan, still_at_head_mark, tree_scan

ROOT = Path(__file__).resolve().parents[2]  # the project: what the scanning process imports from


@dataclass
class ScanResult:
    leaks: list[Leak]
    stats: Stats
    errors: list[str] = field(default_factory=list)
    tips: dict = field(default_factory=dict)
    seconds: float = 0.0


def leak_fingerprint(leak: Leak) -> str:
    """Survives rebases and squashes: rule + secret fingerprint (keyed) + path, never the commit."""
    return hashlib.sha256(f"{leak.rule_id}\0{leak.file}\0{leak.secret_fingerprint}".encode()).hexdigest()


def baseline_load(path: str | Path) -> set[str]:
    """A baseline is a `scan_repo --format json` output, or a text file of fingerprints (one a line,
    `#` comments)."""
    text = Path(path).read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        try:
            return {f["fingerprint"] for f in json.loads(text).get("findings", [])}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}: not a scan_repo JSON baseline: {exc}") from None
    return {line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()}


def _short(name: str) -> str:
    for prefix in ("refs/heads/", "refs/remotes/", "refs/tags/"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def refs_select(repo: pygit2.Repository, branches=("*",), damaged=None) -> dict[str, str]:
    """{ref name: commit id} for every ref matching `branches` (glob on short names; '*' = all).
    A ref to a damaged loose object is kept unpeeled: the walk reports that object by id."""
    damaged = damaged or {}
    tips = {}
    patterns = list(branches or ["*"])
    for ref in repo.references.iterator():  # one pass: a lookup per name costs ~0.1 ms each
        name = ref.name
        if name.endswith("/HEAD") or name == "refs/stash":
            continue
        if patterns != ["*"] and not any(fnmatch.fnmatchcase(_short(name), p) for p in patterns):
            continue
        try:
            target = ref.resolve().target if ref.type == pygit2.enums.ReferenceType.SYMBOLIC else ref.target
            tips[name] = str(target) if target.raw in damaged else str(ref.peel(pygit2.Commit).id)
        except (pygit2.GitError, KeyError, ValueError, pygit2.InvalidSpecError):
            continue
    return tips


def default_head(repo: pygit2.Repository, damaged=None):
    """The commit at the tip of the default branch (HEAD, else main/master), or None (also when
    that commit is a damaged loose object)."""
    damaged = damaged or {}
    try:
        if not repo.head_is_unborn:
            return None if repo.head.resolve().target.raw in damaged else repo.head.peel(pygit2.Commit)
    except pygit2.GitError:
        pass
    for name in ("refs/heads/main", "refs/heads/master"):
        if name in repo.references:
            ref = repo.references[name].resolve()
            return None if ref.target.raw in damaged else ref.peel(pygit2.Commit)
    return None


def engine_job(target: str, *, repo: pygit2.Repository | None, kwargs: dict) -> bytes:
    """The job for the scanning process (engine.py): `target` ("module:function"), the settings a scan
    reads (the fingerprint key among them: never on a command line or in the environment), the
    repository's path (reopened there) and `kwargs`."""
    values = {k: getattr(settings, k) for k in dir(settings) if k.startswith("BOTAUDIT_GIT_")}
    values["BOTAUDIT_FINGERPRINT_KEY"] = settings.BOTAUDIT_FINGERPRINT_KEY
    return pickle.dumps((target, values, repo.path if repo is not None else None, pickle.dumps(kwargs)))


ENGINE = ["-P", "-m", "scanners.git.engine"]  # -P: nothing in the working directory is importable


def _engine_env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def engine_call(target: str, *, repo: pygit2.Repository | None, kwargs: dict, seconds: float, what: str):
    """`target` called with `kwargs` (and `repo`) in a fresh scanning process (engine.py: it inherits
    none of this process's memory), in its own process group; see `result_await`."""
    job = engine_job(target, repo=repo, kwargs=kwargs)
    with subprocess.Popen([sys.executable, *ENGINE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          env=_engine_env(), start_new_session=True) as proc:
        try:
            proc.stdin.write(job)
            proc.stdin.close()
        except BrokenPipeError:  # it died before reading: result_await says how
            pass
        return result_await(proc.pid, proc.stdout.fileno(), seconds, what,
                             lambda: status_text(wait_status(proc)))


def engine_exec(target: str, *, repo: pygit2.Repository | None, kwargs: dict, seconds: float, what: str):
    """Replace this process (a `scan_repo` command line) by the scanning supervisor (engine.py
    --cli, ~10 MB), which runs `target` bounded by `seconds` and prints the (text, exit code) it
    returns: the 85 MB of Django this process holds are not kept waiting for the scan. Never returns."""
    # an anonymous in-memory file (the job holds the fingerprint key: never on disk), of any size (a
    # pipe would block this process on a large baseline before it could exec its reader)
    job = os.memfd_create("botaudit-scan-job", 0)
    with os.fdopen(os.dup(job), "wb") as out:
        out.write(pickle.dumps((seconds, what, engine_job(target, repo=repo, kwargs=kwargs))))
    os.set_inheritable(job, True)  # handed to the new program
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *ENGINE, "--cli", str(job)], _engine_env())  # noqa: S606


def repo_scan(*, repo: pygit2.Repository, **kw) -> ScanResult:
    """Scan `repo` (see `repo_scan_unbounded`) in a fresh scanning process (engine.py) bounded by
    BOTAUDIT_GIT_SCAN_TIME_LIMIT seconds (0: in this process, unbounded)."""
    limit = settings.BOTAUDIT_GIT_SCAN_TIME_LIMIT
    if not limit:
        return repo_scan_unbounded(repo=repo, **kw)
    return engine_call("scanners.git.scan:repo_scan_unbounded", repo=repo, kwargs=kw, seconds=limit,
                       what=f"scan of {repo.path}")


def tips_select(repo: pygit2.Repository, *, branches=None, since: str | None = None, revs=(),
                damaged=None) -> dict[str, str]:
    """{name: commit id} of the tips to walk from: the revisions `revs` when given; else the refs
    matching `branches`; else (no `branches`) every ref, or with `since` only HEAD: `--since REV`
    means the commits of HEAD (or of the branches given) that REV lacks, not every other ref's."""
    if revs:
        tips = {}
        for rev in revs:
            try:
                tips[rev] = str(repo.revparse_single(rev).peel(pygit2.Commit).id)
            except (KeyError, ValueError, pygit2.GitError):
                raise ValueError(f"{repo.path}: unknown revision {rev!r}") from None
        return tips
    if branches is None and since:
        head = default_head(repo, damaged)
        return {"HEAD": str(head.id)} if head is not None else {}
    return refs_select(repo, branches or ["*"], damaged)


def repo_scan_unbounded(*, repo: pygit2.Repository, detector, branches=None, hide=(), no_history=False,
                        since: str | None = None, revs=(), known: list[Leak] = (),
                        baseline: set[str] = frozenset(), workers: int | None = None) -> ScanResult:
    """Scan `repo`. `hide` (commit ids) or `since` (a revision) limits the walk to newer commits
    (tips: see `tips_select`); `known` leaks from earlier runs are kept (their first commit wins) and
    re-marked at head. Damaged loose objects are found first and never handed to libgit2 (it would
    spin on them)."""
    start = time.perf_counter()
    max_blob = settings.BOTAUDIT_GIT_MAX_BLOB_BYTES
    damaged = loose_damaged(repo)
    tips = tips_select(repo, branches=branches, since=since, revs=revs, damaged=damaged)
    head = default_head(repo, damaged)
    if no_history:
        if head is None:
            raise ValueError(f"{repo.path}: no default branch to scan")
        found, stats, errors = tree_scan(repo, detector, head, max_blob_bytes=max_blob)
    else:
        hidden = [pygit2.Oid(hex=h) for h in hide]
        if since:
            try:
                hidden.append(repo.revparse_single(since).peel(pygit2.Commit).id)
            except (KeyError, ValueError, pygit2.GitError):
                raise ValueError(f"{repo.path}: unknown revision {since!r}") from None
        found, stats, errors = history_scan(
            repo, detector, tips=[pygit2.Oid(hex=h) for h in tips.values()], hide=hidden,
            max_blob_bytes=max_blob, workers=workers, damaged=damaged,
        )
    leaks = {leak.key: leak for leak in known}
    for key, leak in found.items():
        leaks.setdefault(key, leak)
    kept = [leak for leak in leaks.values() if leak_fingerprint(leak) not in baseline]
    errors += still_at_head_mark(repo, detector, kept, head, max_blob_bytes=max_blob, damaged=damaged)
    kept.sort(key=lambda x: (x.commit_date, x.file, x.line, x.rule_id))
    return ScanResult(leaks=kept, stats=stats, errors=errors, tips=tips, seconds=time.perf_counter() - start)
