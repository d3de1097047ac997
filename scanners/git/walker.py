"""Walk a repository's history once (one revwalk, every tip pushed, oldest first), scan each new
blob once, and report where each secret was introduced. Blob reading and matching run in worker
processes over contiguous commit ranges, so both cores are used (threads where the process may
not fork, e.g. a daemonic Celery worker)."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial

import pygit2
from pygit2.enums import FileMode, ObjectType, SortMode

from .detector import text_decode
from .lines import added_lines
from .trees import BLOB, BLOB_EXECUTABLE, COMMIT, TreeReader

LFS_POINTER = b"version https://git-lfs.github.com/spec/v1"
BLOB_MODES = {BLOB, BLOB_EXECUTABLE}
CHUNK = 400  # smallest number of commits per worker task (about 4 tasks per worker)
PARALLEL_FROM = 300  # fewer commits than this are scanned in-process (fork costs more)
LINE_CACHE_PATHS = 20_000  # paths whose latest version (and its line counts) is kept per worker
LINE_CACHE_BYTES = 64 << 20  # ... and at most this much of their content (the counts take ~2x more)


@dataclass
class Leak:
    """One secret at one path, where it was first introduced. No value, only its fingerprint."""

    rule_id: str
    file: str
    line: int
    commit: str
    commit_date: str
    redacted: str
    secret_fingerprint: str
    still_at_head: bool = False
    confidence: str = "medium"  # high | medium | low, with the reasons (values.value_judge)
    reasons: tuple[str, ...] = ()

    @property
    def key(self) -> tuple:
        return (self.rule_id, self.file, self.secret_fingerprint)


@dataclass
class Stats:
    commits: int = 0
    blobs: int = 0
    bytes: int = 0
    skipped: dict = field(default_factory=lambda: {"binary": 0, "huge": 0, "lfs": 0, "submodule": 0})

    def add(self, other: Stats) -> None:
        self.commits += other.commits
        self.blobs += other.blobs
        self.bytes += other.bytes
        for k, v in other.skipped.items():
            self.skipped[k] += v


class BlobScanner:
    """Scans blobs by id with a cache, counting what it skipped and why."""

    def __init__(self, repo, detector, max_blob_bytes: int):
        self.repo, self.detector, self.max = repo, detector, max_blob_bytes
        self.cache: dict = {}
        self.lines: dict = {}
        self.lines_bytes = 0
        self.stats = Stats()
        self.errors: list[str] = []

    def _read(self, oid):
        """The blob's bytes, or None when it is skipped (huge, binary, LFS pointer)."""
        _type, size = self.repo.odb.read_header(oid)
        if size > self.max:
            self.stats.skipped["huge"] += 1
            return None
        data = self.repo.odb.read(oid)[1]
        if b"\0" in data[:8000]:
            self.stats.skipped["binary"] += 1
            return None
        if data.startswith(LFS_POINTER):
            self.stats.skipped["lfs"] += 1
            return None
        return data

    def scan(self, oid, path: str, where: str, old_oid=None) -> list:
        """Matches in the blob; with `old_oid`, only in the lines the new blob adds (line numbers
        are the new blob's). Whole blobs are cached by id; identical blobs are scanned once."""
        whole = old_oid is None or oid in self.cache
        if whole and oid in self.cache:
            return self.cache[oid]
        matches = []
        try:
            data = self._read(oid)
            if data is not None:
                self.stats.blobs += 1
                if whole:
                    self.stats.bytes += len(data)
                    matches = self.detector.scan(text_decode(data), path=path)
                    self._remember(path, oid, data)
                else:
                    matches = self._scan_added(data, oid, old_oid, path)
        except (pygit2.GitError, KeyError, ValueError, OSError) as exc:
            self.errors.append(f"object {oid} ({path} in {where}) unreadable: {exc}")
        if whole:
            self.cache[oid] = matches
        return matches

    def _remember(self, path: str, oid, data: bytes, counts=None) -> None:
        """Keep the latest version of each path (and, once computed, how often each of its lines
        occurs): the next commit that modifies the file compares against it without reading or
        splitting the old blob again."""
        previous = self.lines.pop(path, None)
        if previous is not None:
            self.lines_bytes -= len(previous[1])
        if len(self.lines) >= LINE_CACHE_PATHS or self.lines_bytes > LINE_CACHE_BYTES:
            self.lines.clear()
            self.lines_bytes = 0
        self.lines[path] = (oid, data, counts)
        self.lines_bytes += len(data)

    def _scan_added(self, new: bytes, oid, old_oid, path: str) -> list:
        """Scan the lines `new` adds (lines not among the old blob's lines). First as an unordered
        set; only when that finds something, or a multi-line rule could match, again in order."""
        cached = self.lines.get(path)
        if cached is not None and cached[0] == old_oid:
            _oid, old, counts = cached
        else:
            old, counts = self.repo.odb.read(old_oid)[1], None
        if counts is None:
            counts = dict(Counter(old.split(b"\n")))
        cut, added = added_lines(old, new, counts)
        self._remember(path, oid, new, counts)
        if not added:
            return []
        text = b"\n".join(dict.fromkeys(line for _n, line in added))
        self.stats.bytes += len(text)
        if self.detector.scan(text_decode(text), path=path, unordered=True) == []:
            return []
        matches = self.detector.scan(text_decode(b"\n".join(line for _n, line in added)), path=path)
        first = new.count(b"\n", 0, cut)  # lines before the first candidate
        return [replace(m, line=first + added[m.line - 1][0]) for m in matches]


def _commit_date(commit) -> str:
    return datetime.fromtimestamp(commit.commit_time, tz=UTC).isoformat()


def commits_scan(repo, detector, commit_ids, max_blob_bytes: int):
    """Scan the blobs each commit adds or changes (against its first parent; a root commit against
    the empty tree). Returns ([(commit, date, path, match)] in commit order, Stats, errors)."""
    scanner = BlobScanner(repo, detector, max_blob_bytes)
    trees = TreeReader(repo.odb)
    out = []
    for cid in commit_ids:
        scanner.stats.commits += 1
        try:
            commit = repo[cid]
            parents = commit.parent_ids
            changes = trees.changes(repo[parents[0]].tree_id.raw if parents else None, commit.tree_id.raw)
        except (pygit2.GitError, KeyError, ValueError) as exc:
            scanner.errors.append(f"commit {cid} unreadable: {exc}")
            continue
        for path, mode, new_id, old_id in changes:
            if mode not in BLOB_MODES:
                if mode == COMMIT:
                    scanner.stats.skipped["submodule"] += 1
                continue
            old = pygit2.Oid(raw=old_id) if old_id is not None else None
            for match in scanner.scan(pygit2.Oid(raw=new_id), path, f"commit {cid}", old):
                out.append((str(cid), _commit_date(commit), path, match))
    return out, scanner.stats, scanner.errors


# --- worker processes -------------------------------------------------------------------------
_WORKER: dict = {}


def _worker_init(path, detector, max_blob_bytes):
    _WORKER.update(repo=pygit2.Repository(path), detector=detector, max=max_blob_bytes)


def _worker_scan(commit_hexes):
    return commits_scan(_WORKER["repo"], _WORKER["detector"], [pygit2.Oid(hex=h) for h in commit_hexes],
                        _WORKER["max"])


def _thread_scan(path, detector, max_blob_bytes, commit_hexes):
    """One thread's share: its own repository handle and detector (a hyperscan scratch space is
    per thread)."""
    return commits_scan(pygit2.Repository(path), type(detector)(detector.ruleset),
                        [pygit2.Oid(hex=h) for h in commit_hexes], max_blob_bytes)


def _can_fork() -> bool:
    return not multiprocessing.current_process().daemon and "fork" in multiprocessing.get_all_start_methods()


def _readable_commits(repo, tips, hide):
    """Fallback when the revwalk fails: every readable commit reachable from `tips` (not behind an
    unreadable one), oldest first, and an error naming each unreadable commit."""
    hidden, errors, seen, readable = set(hide), [], set(), []
    stack = list(tips)
    while stack:
        oid = stack.pop()
        if oid in seen or oid in hidden:
            continue
        seen.add(oid)
        try:
            repo.odb.read(oid)  # not the object cache: is it readable on disk?
            commit = repo[oid]
            parents = commit.parent_ids
        except (pygit2.GitError, KeyError, ValueError) as exc:
            errors.append(f"commit {oid} unreadable: {exc} (history behind it not scanned)")
            continue
        readable.append((commit.commit_time, oid))
        stack.extend(parents)
    return [oid for _t, oid in sorted(readable, key=lambda x: x[0])], errors


def history_scan(repo, detector, *, tips, hide=(), max_blob_bytes: int, workers: int | None = None):
    """One revwalk over every commit reachable from `tips` and not from `hide` (oldest first).
    Returns (leaks keyed by (rule, file, secret fingerprint) at first introduction, Stats, errors)."""
    walker = repo.walk(None, SortMode.TOPOLOGICAL | SortMode.REVERSE)
    for oid in tips:
        walker.push(oid)
    for oid in hide:
        if oid in repo:
            walker.hide(oid)
    walk_errors = []
    try:
        commits = [c.id for c in walker]
    except (pygit2.GitError, KeyError, ValueError):  # a corrupted commit: walk around it
        commits, walk_errors = _readable_commits(repo, tips, hide)
    workers = workers or min(2, os.cpu_count() or 1)
    if workers > 1 and len(commits) >= PARALLEL_FROM:
        size = min(max(CHUNK, len(commits) // (workers * 4) + 1), 5000)
        chunks = [[str(c) for c in commits[i:i + size]] for i in range(0, len(commits), size)]
        if _can_fork():
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(workers, _worker_init, (repo.path, detector, max_blob_bytes)) as pool:
                parts = list(pool.imap(_worker_scan, chunks))
        else:  # e.g. inside a daemonic Celery worker: threads (pygit2 releases the GIL in libgit2)
            with ThreadPoolExecutor(workers) as pool:
                parts = list(pool.map(partial(_thread_scan, repo.path, detector, max_blob_bytes), chunks))
    else:
        parts = [commits_scan(repo, detector, commits, max_blob_bytes)]
    stats, errors, leaks = Stats(), walk_errors, {}
    for found, part_stats, part_errors in parts:
        stats.add(part_stats)
        errors.extend(part_errors)
        for commit, date, path, m in found:
            leak = Leak(m.rule_id, path, m.line, commit, date, m.redacted, m.secret_fingerprint,
                        confidence=m.confidence, reasons=m.reasons)
            leaks.setdefault(leak.key, leak)
    return leaks, stats, errors


def tree_scan(repo, detector, commit, *, max_blob_bytes: int):
    """Scan every blob in one commit's tree (no history)."""
    scanner = BlobScanner(repo, detector, max_blob_bytes)
    leaks = {}
    stack = [("", commit.tree)]
    while stack:
        prefix, tree = stack.pop()
        for entry in tree:
            path = f"{prefix}{entry.name}"
            if entry.filemode == FileMode.COMMIT:
                scanner.stats.skipped["submodule"] += 1
            elif entry.type == ObjectType.TREE:
                stack.append((f"{path}/", repo[entry.id]))
            elif entry.filemode in BLOB_MODES:
                for m in scanner.scan(entry.id, path, f"commit {commit.id}"):
                    leak = Leak(m.rule_id, path, m.line, str(commit.id), _commit_date(commit),
                                m.redacted, m.secret_fingerprint, confidence=m.confidence, reasons=m.reasons)
                    leaks.setdefault(leak.key, leak)
    scanner.stats.commits = 1
    return leaks, scanner.stats, scanner.errors


def still_at_head_mark(repo, detector, leaks, head_commit, *, max_blob_bytes: int) -> list[str]:
    """Set `still_at_head` on each leak: the file at that path in the default branch's tip still
    holds the same secret (same rule and fingerprint)."""
    scanner = BlobScanner(repo, detector, max_blob_bytes)
    for leak in leaks:
        leak.still_at_head = False
        if head_commit is None:
            continue
        try:
            entry = head_commit.tree[leak.file]
        except KeyError:
            continue
        if entry.filemode in BLOB_MODES:
            found = scanner.scan(entry.id, leak.file, f"commit {head_commit.id}")
            leak.still_at_head = any(
                m.rule_id == leak.rule_id and m.secret_fingerprint == leak.secret_fingerprint for m in found
            )
    return scanner.errors


def timed(fn, *args, **kw):
    start = time.perf_counter()
    result = fn(*args, **kw)
    return result, time.perf_counter() - start
