"""Walk a repository's history once (one revwalk, every tip pushed, oldest first), scan each new
blob once, and report where each secret was introduced. Blob reading and matching run in worker
processes over contiguous commit ranges, so both cores are used (threads where the process may
not fork, e.g. a daemonic Celery worker)."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial

import pygit2
from pygit2.enums import FileMode, ObjectType, SortMode

from .changes import changes_parse, changes_stream, large_blobs, large_blobs_start, part_read
from .detector import text_decode
from .lines import added_lines, changed_region, changed_span
from .shares import Shares
from .trees import BLOB, BLOB_EXECUTABLE, COMMIT, PACK_MAPPED, PACK_WINDOW, TreeReader

LFS_POINTER = b"version https://git-lfs.github.com/spec/v1"
BLOB_MODES = {BLOB, BLOB_EXECUTABLE}
NONE = ()  # one shared "no matches" for the tens of thousands of cached clean blobs
CHUNK = 100  # smallest number of commits per worker task
CHUNKS_PER_WORKER = 64  # small tasks balance the load: a few commits (e.g. generated docs) cost a sixth of
# celery's history, and with 16 tasks per worker one of them held a worker 3.8 s alone at the end (64:
# 8.1-8.5 s instead of 9.1-10.2; 128 duplicate more blob scans between the workers' caches: 9.1-10.4)
PARALLEL_FROM = 300  # fewer commits than this are scanned in-process (fork costs more)
HIDE_DIRECT = 64  # more hidden tips than this: hide only the ones a short walk back meets (see _boundary)
BOUNDARY_WALK = 2_000
GATE_FROM = 300  # from this many commits on, blobs and changes pass the detector's regex gate first
LINE_CACHE_PATHS = 5_000  # paths whose latest version is kept per worker
LINE_CACHE_BYTES = 4 << 20  # ... and at most this much of their content


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

    def __init__(self, repo, detector, max_blob_bytes: int, gate: bool = False, damaged=None, large=None):
        self.repo, self.detector, self.max, self.gate = repo, detector, max_blob_bytes, gate
        self.damaged = damaged or {}  # {raw id: why}: loose objects libgit2 must never be asked for
        self.large = large  # raw ids of the blobs over `max_blob_bytes`, as git listed them (None: ask libgit2)
        self.cache: dict = {}
        self.lines: dict = {}
        self.lines_bytes = 0
        self.stats = Stats()
        self.errors: list[str] = []

    def _read(self, oid):
        """The blob's bytes, or None when it is skipped (huge, binary, LFS pointer)."""
        if oid.raw in self.damaged:
            raise ValueError(self.damaged[oid.raw])
        if oid.raw in self.large if self.large is not None else self.repo.odb.read_header(oid)[1] > self.max:
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
        are the new blob's). Path-only rules match a path where it is added (binary blobs too)."""
        found = self._content_scan(oid, path, where, old_oid)
        if old_oid is None and self.detector.path_rules:
            return [*found, *self.detector.path_scan(path)]
        return found

    def _content_scan(self, oid, path: str, where: str, old_oid=None) -> list:
        """Whole blobs are cached by id and by what their path changes about a scan (rule paths,
        path allowlists): identical blobs are scanned once per kind of path; so are changes (new
        blob, kind of path, old blob) scanned line by line."""
        key = (oid, self.detector.path_key(path))
        whole = old_oid is None or key in self.cache
        if whole and key in self.cache:
            return self.cache[key]
        change = (*key, old_oid)  # the same change again (a cherry-pick, a rebased pull request)
        if change in self.cache:
            return self.cache[change]
        matches = []
        try:
            data = self._read(oid)
            if data is not None:
                self.stats.blobs += 1
                if whole:
                    self.stats.bytes += len(data)
                    if not self.gate or self.detector.may_match(data, path):
                        matches = self.detector.scan(text_decode(data), path=path)
                    self._remember(path, oid, data)
                elif self.gate and not self._old_at_hand(path, old_oid) and not self.detector.may_match(data, path):
                    self.stats.bytes += len(data)  # nothing in it can match, whatever it is compared with:
                    self._remember(path, oid, data)  # no old blob read, and cached like a whole blob
                    whole = True
                else:  # the old blob at hand: only the changed region is gated (~1 GB less on celery)
                    matches = self._scan_added(data, oid, old_oid, path)
                    self.cache[change] = matches or NONE
        except (pygit2.GitError, KeyError, ValueError, OSError) as exc:
            self.errors.append(f"object {oid} ({path} in {where}) unreadable: {exc}")
        if whole:
            self.cache[key] = matches or NONE
        return matches

    def _remember(self, path: str, oid, data: bytes) -> None:
        """Keep the latest version of each path: the next commit that modifies the file compares
        against it without reading the old blob again."""
        previous = self.lines.pop(path, None)
        if previous is not None:
            self.lines_bytes -= len(previous[1])
        if len(self.lines) >= LINE_CACHE_PATHS or self.lines_bytes > LINE_CACHE_BYTES:
            self.lines.clear()
            self.lines_bytes = 0
        self.lines[path] = (oid, data)
        self.lines_bytes += len(data)

    def _old_at_hand(self, path: str, old_oid) -> bool:
        cached = self.lines.get(path)
        return cached is not None and cached[0] == old_oid

    def _scan_added(self, new: bytes, oid, old_oid, path: str) -> list:
        """Scan the lines `new` adds (lines not among the old blob's lines). Nothing when no rule
        can match in the changed region (the regex gate: no line work at all); else first as an
        unordered set, and only when that finds something, or a multi-line rule could match, again
        in order."""
        cached = self.lines.get(path)
        old = cached[1] if cached is not None and cached[0] == old_oid else self.repo.odb.read(old_oid)[1]
        span = changed_span(old, new)
        if self.gate:
            region = changed_region(new, span)
            if not self.detector.may_match(region, path):
                self.stats.bytes += len(region)
                self._remember(path, oid, new)
                return []
        cut, added = added_lines(old, new, span)
        self._remember(path, oid, new)
        if not added:
            return []
        text = b"\n".join(dict.fromkeys(line for _n, line in added))
        self.stats.bytes += len(text)
        if self.detector.scan(text_decode(text), path=path, unordered=True) == []:
            return []
        matches = self.detector.scan(text_decode(b"\n".join(line for _n, line in added)), path=path)
        first = new.count(b"\n", 0, cut)  # lines before the first candidate
        return [replace(m, line=first + added[m.line - 1][0]) for m in matches]


def _date(when: int) -> str:
    return datetime.fromtimestamp(when, tz=UTC).isoformat()


def commits_scan(repo, detector, commit_ids, max_blob_bytes: int, gate: bool = False, damaged=None, caches=None,
                 listed=None, large=None):
    """Scan the blobs each commit adds or changes (against its first parent; a root commit against
    the empty tree; a merge: only what differs from every parent). Returns ([(commit, date, path,
    match)] in commit order, Stats, errors). `caches` ((BlobScanner, TreeReader) of this repository
    and detector) carries the blob, line and tree caches over from an earlier call (a worker's).
    `listed` ({raw commit id: (git's record of its changes, commit time)}, see changes.py) spares the
    tree diffs; `large` (raw ids of the blobs over the limit) the size lookups."""
    if caches is None:
        scanner = BlobScanner(repo, detector, max_blob_bytes, gate, damaged, large)
        trees = TreeReader(repo.odb, damaged)
    else:
        scanner, trees = caches
        scanner.stats, scanner.errors = Stats(), []
    out = []
    for cid in commit_ids:
        scanner.stats.commits += 1
        try:
            record = listed.get(cid.raw) if listed else None
            if record is not None:  # git read the commit: its time is in the listing too
                changes, when = changes_parse(record[0]), record[1]
            else:
                changes, when = _changes_read(repo, trees, cid, scanner.damaged)
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
                out.append((str(cid), _date(when), path, match))
    return out, scanner.stats, scanner.errors


def _changes_read(repo, trees, cid, damaged) -> tuple[list, int]:
    """(what commit `cid` adds or changes, read from its trees, its commit time)."""
    if cid.raw in damaged:
        raise ValueError(damaged[cid.raw])
    commit = repo[cid]
    parents = commit.parent_ids
    for parent in parents:
        if parent.raw in damaged:
            raise ValueError(f"parent {parent} unreadable: {damaged[parent.raw]}")
    changes = trees.changes(repo[parents[0]].tree_id.raw if parents else None, commit.tree_id.raw)
    if len(parents) > 1:
        changes = trees.merge_changes(changes, [repo[p].tree_id.raw for p in parents[1:]], commit.tree_id.raw)
    return changes, commit.commit_time


# --- worker processes -------------------------------------------------------------------------
_WORKER: dict = {}


def _worker_init(path, detector, max_blob_bytes, gate, damaged, large, listing_fd):
    reads_fast()
    _heap_tune()
    repo = pygit2.Repository(path)
    caches = (BlobScanner(repo, detector, max_blob_bytes, gate, damaged, large), TreeReader(repo.odb, damaged))
    _WORKER.update(repo=repo, detector=detector, max=max_blob_bytes, gate=gate, damaged=damaged, caches=caches,
                   fd=listing_fd)


def _worker_scan(task):
    """One chunk (commit ids, and where git's listing holds their records, see ChangeStream.part),
    with this worker's caches: a blob another chunk of this worker scanned is not scanned again (the
    cache key holds everything about a path that a scan depends on)."""
    commits, listed = _task_read(task, _WORKER["fd"])
    return commits_scan(_WORKER["repo"], _WORKER["detector"], commits, _WORKER["max"], _WORKER["gate"],
                        _WORKER["damaged"], _WORKER["caches"], listed)


def _task_read(task, listing_fd) -> tuple[list, dict | None]:
    """(the chunk's commit ids, {raw id: (git's records, commit time)} or None when git did not list it)."""
    commit_hexes, part = task
    commits = [pygit2.Oid(hex=h) for h in commit_hexes]
    return commits, part_read(listing_fd, part, [c.raw for c in commits])


def _worker_loop(conn, init_args) -> None:
    """A forked worker: scan each (index, chunk) received, send back (index, ok, result or exception)
    until told to stop (None) or the main process is gone."""
    _worker_init(*init_args)
    try:
        while (task := conn.recv()) is not None:
            index, chunk = task
            try:
                conn.send((index, True, _worker_scan(chunk)))
            except Exception as exc:  # noqa: BLE001 - raised again in the main process
                conn.send((index, False, exc))
    except EOFError:  # the main process is gone
        pass


def _shared_scan(shares: Shares, task_for, workers: int, init_args) -> tuple[list, list[str]]:
    """(each chunk's `commits_scan` result in chunk order, errors). This process scans chunks too, and
    `workers - 1` forked worker processes take theirs as they go (`shares`: process 0 is this one;
    a thread here keeps each worker two chunks ahead): one process fewer than a pool of `workers`,
    where a worker holds ~100 MB of celery's history. A worker that dies has its chunks scanned
    here, and an error says so. `task_for(index)` is chunk `index`'s task (it may wait for git to
    list the chunk)."""
    ctx = multiprocessing.get_context("fork")
    helpers = []
    for _ in range(workers - 1):  # forked before this process opens its own caches
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(target=_worker_loop, args=(theirs, init_args), daemon=True)
        proc.start()
        theirs.close()
        helpers.append((proc, mine))
    _worker_init(*init_args)
    results, errors, raised = [None] * sum(map(len, shares.runs)), [], []

    def drive(owner, proc, conn):
        pending = deque()
        try:
            while True:
                while len(pending) < 2 and not raised and (index := shares.take(owner)) is not None:
                    pending.append(index)  # before sending: a send to a dead worker loses no chunk
                    conn.send((index, task_for(index)))
                if not pending:
                    return
                index, ok, value = conn.recv()
                pending.remove(index)
                if not ok:
                    raised.append(value)
                    return
                results[index] = value
        except (EOFError, OSError):
            proc.join()
            errors.append(f"scan worker process {proc.pid} died (exit code {proc.exitcode}); "
                          "its share was scanned by the main scanning process")
            shares.give_back(0, pending)

    drivers = [threading.Thread(target=drive, args=(owner, *helper), daemon=True)
               for owner, helper in enumerate(helpers, start=1)]
    try:
        for driver in drivers:
            driver.start()
        while True:
            while not raised and (index := shares.take(0)) is not None:
                results[index] = _worker_scan(task_for(index))
            for driver in drivers:
                driver.join()
            if raised:
                raise raised[0]
            if not shares.left():  # else a worker died with chunks in hand: they are scanned here
                break
    finally:
        for (proc, conn), driver in zip(helpers, drivers, strict=True):
            if driver.is_alive():  # this process raised: the worker is killed, not told
                proc.kill()
            else:
                with contextlib.suppress(OSError):
                    conn.send(None)
            proc.join()
        _WORKER.clear()
    return results, errors


def _heap_tune() -> None:
    """Every allocation over HEAP_OWN_PAGES (a large blob, its text) gets pages of its own, given
    back when freed: glibc otherwise raises that threshold as large blocks are freed and then keeps
    them in the heap (a worker's RSS held ~120 MB it no longer used). Trimming the heap after each
    chunk instead cost 0.3 s of system time on celery, refaulting the pages. No-op without glibc."""
    if _MALLOPT is not None:
        _MALLOPT(M_MMAP_THRESHOLD, HEAP_OWN_PAGES)


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
HEAP_OWN_PAGES = 1 << 20
try:
    _MALLOPT = ctypes.CDLL("libc.so.6").mallopt
except (OSError, AttributeError):  # pragma: no cover - not glibc
    _MALLOPT = None


def _thread_scan(path, detector, max_blob_bytes, gate, damaged, large, listing_fd, task):
    """One thread's share: its own repository handle and detector (a hyperscan scratch space is
    per thread)."""
    commits, listed = _task_read(task, listing_fd)
    return commits_scan(pygit2.Repository(path), type(detector)(detector.ruleset), commits, max_blob_bytes, gate,
                        damaged, listed=listed, large=large)


def _can_fork() -> bool:
    return not multiprocessing.current_process().daemon and "fork" in multiprocessing.get_all_start_methods()


def _readable_commits(repo, tips, hide, damaged):
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
            if oid.raw in damaged:
                raise ValueError(damaged[oid.raw])
            repo.odb.read(oid)  # not the object cache: is it readable on disk?
            commit = repo[oid]
            parents = commit.parent_ids
        except (pygit2.GitError, KeyError, ValueError) as exc:
            errors.append(f"commit {oid} unreadable: {exc} (history behind it not scanned)")
            continue
        readable.append((commit.commit_time, oid))
        stack.extend(parents)
    return [oid for _t, oid in sorted(readable, key=lambda x: x[0])], errors


def reads_fast() -> None:
    """libgit2 re-hashes every object it reads (SHA-1 with collision detection): 4x the cost of
    reading. git itself does not; a damaged object still fails to inflate or to apply as a delta,
    and is reported by id. Process-wide, and only about reading."""
    pygit2.settings.enable_strict_hash_verification(False)
    # libgit2's parsed-object cache (default 256 MB). It holds commits only, since git lists the
    # changes (trees are read by TreeReader only as a fallback): 2 MB, ~20 MB less per process than 16
    pygit2.settings.cache_max_size(2 << 20)
    # Pack files are mapped in windows of 1 GB by default (the whole pack resident in every process):
    # see trees.PACK_WINDOW. Only packs opened after this call get them: engine.py calls it before
    # opening the repository.
    pygit2.settings.mwindow_size = PACK_WINDOW
    pygit2.settings.mwindow_mapped_limit = PACK_MAPPED


def _boundary(repo, tips, hidden: set):
    """The hidden commits met first when walking back from `tips` (at most BOUNDARY_WALK commits
    deep, else None): hiding only those gives libgit2 the same new commits whenever a new commit
    reaches old history only through a hidden tip (new commits on top of scanned refs). libgit2
    takes seconds to hide thousands of tips (a mirror's PR refs), whatever the walk finds."""
    seen, met, stack = set(), set(), list(tips)
    while stack:
        oid = stack.pop()
        if oid in hidden:
            met.add(oid)
            continue
        if oid in seen:
            continue
        seen.add(oid)
        if len(seen) > BOUNDARY_WALK:
            return None
        stack.extend(repo[oid].parent_ids)
    return list(met)


def _commits_walk(repo, tips, hide, damaged):
    """Every commit reachable from `tips` and not from `hide`, oldest first (one libgit2 revwalk;
    around damaged commits when there are any), and the errors naming what could not be read."""
    if damaged:  # libgit2's revwalk would be handed a damaged loose object: walk in Python
        return _readable_commits(repo, tips, hide, damaged)
    hidden = set(hide)
    tips = [oid for oid in tips if oid not in hidden]  # a tip scanned before adds nothing
    if len(hidden) > HIDE_DIRECT:
        hide = _boundary(repo, tips, hidden) or hide
    walker = repo.walk(None, SortMode.TOPOLOGICAL | SortMode.REVERSE)
    for oid in tips:
        walker.push(oid)
    for oid in hide:
        if oid in repo:
            walker.hide(oid)
    try:
        return [c.id for c in walker], []
    except (pygit2.GitError, KeyError, ValueError):  # a corrupted commit: walk around it
        return _readable_commits(repo, tips, hide, damaged)


def history_scan(repo, detector, *, tips, hide=(), max_blob_bytes: int, workers: int | None = None,
                 damaged=None):
    """One revwalk over every commit reachable from `tips` and not from `hide` (oldest first).
    Returns (leaks keyed by (rule, file, secret fingerprint) at first introduction, Stats, errors).
    `damaged` ({raw id: why}) are loose objects that are never handed to libgit2."""
    reads_fast()
    damaged = damaged or {}
    # damaged objects are never handed to git; which blobs are too large, git lists meanwhile (a
    # full scan: speculatively, before the walk tells how many commits there are)
    sizes = (large_blobs_start(repo.path, max_blob_bytes) if not damaged and not hide else None)
    commits, walk_errors = _commits_walk(repo, tips, hide, damaged)
    gate = len(commits) >= GATE_FROM
    workers = workers or min(2, os.cpu_count() or 1)
    parallel = workers > 1 and len(commits) >= PARALLEL_FROM
    size = min(max(CHUNK, len(commits) // (workers * CHUNKS_PER_WORKER) + 1), 5000)
    step = size if parallel else max(1, len(commits))
    bounds = [(i, min(i + step, len(commits))) for i in range(0, len(commits), step)]
    shares = Shares(len(bounds), workers if parallel else 1)
    # git lists every commit's changes, chunk by chunk in the order they are taken, while the first
    # chunks are scanned: at[chunk] is where the chunk's commits are in git's listing
    stream, at = None, {}
    if gate and not damaged:
        listing = []
        for index in shares.listing_order():
            start, end = bounds[index]
            at[index] = (len(listing), len(listing) + end - start)
            listing.extend(commits[start:end])
        stream = changes_stream(repo.path, listing)
        if sizes is None:
            sizes = large_blobs_start(repo.path, max_blob_bytes)
        detector.gates_build()  # once, before the workers fork
    large = large_blobs(sizes, wanted=gate)  # a small walk: libgit2 is asked for each size
    fd = stream.fd if stream is not None else -1

    def task_for(index):
        start, end = bounds[index]
        return [str(c) for c in commits[start:end]], stream.part(*at[index]) if stream is not None else None

    try:
        if parallel and _can_fork():
            init = (repo.path, detector, max_blob_bytes, gate, damaged, large, fd)
            parts, fork_errors = _shared_scan(shares, task_for, workers, init)
            walk_errors += fork_errors
        elif parallel:  # e.g. inside a daemonic Celery worker: threads (pygit2 releases the GIL in libgit2)
            with ThreadPoolExecutor(workers) as pool:
                scan = partial(_thread_scan, repo.path, detector, max_blob_bytes, gate, damaged, large, fd)
                parts = list(pool.map(lambda index: scan(task_for(index)), range(len(bounds))))
        else:
            listed = stream.listed(*at[0]) if stream is not None else None
            parts = [commits_scan(repo, detector, commits, max_blob_bytes, gate, damaged, listed=listed, large=large)]
    finally:  # git's listing, also when the scan raised
        if stream is not None:
            stream.close()
    stats, errors, leaks = Stats(), walk_errors, {}
    for found, part_stats, part_errors in parts:
        stats.add(part_stats)
        errors.extend(part_errors)
        for commit, date, path, m in found:
            if detector.commit_allowed(m.rule_id, commit=commit, path=path):
                continue
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
                    leak = Leak(m.rule_id, path, m.line, str(commit.id), _date(commit.commit_time),
                                m.redacted, m.secret_fingerprint, confidence=m.confidence, reasons=m.reasons)
                    leaks.setdefault(leak.key, leak)
    scanner.stats.commits = 1
    return leaks, scanner.stats, scanner.errors


def still_at_head_mark(repo, detector, leaks, head_commit, *, max_blob_bytes: int, damaged=None) -> list[str]:
    """Set `still_at_head` on each leak: the file at that path in the default branch's tip still
    holds the same secret (same rule and fingerprint)."""
    scanner = BlobScanner(repo, detector, max_blob_bytes, damaged=damaged)
    trees = TreeReader(repo.odb, damaged)
    for leak in leaks:
        leak.still_at_head = False
        if head_commit is None:
            continue
        try:
            entry = trees.entry_at(head_commit.tree_id.raw, leak.file)
        except (pygit2.GitError, KeyError, ValueError) as exc:
            scanner.errors.append(f"{leak.file} at commit {head_commit.id} unreadable: {exc}")
            continue
        if entry is not None and entry[0] in BLOB_MODES:
            found = scanner.scan(pygit2.Oid(raw=entry[1]), leak.file, f"commit {head_commit.id}")
            leak.still_at_head = any(
                m.rule_id == leak.rule_id and m.secret_fingerprint == leak.secret_fingerprint for m in found
            )
    return scanner.errors


def timed(fn, *args, **kw):
    start = time.perf_counter()
    result = fn(*args, **kw)
    return result, time.perf_counter() - start
