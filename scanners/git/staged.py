"""Scan what is about to be committed: the index against HEAD (`scan_repo --staged`, the pre-commit
hook). Added files are scanned whole, modified files only in the lines they add, with the same
detector (rules, allowlists, inline `gitleaks:allow`) and baseline as a history scan. Reads the
index and the objects `git add` wrote; writes nothing (no tree is written for the index)."""

from __future__ import annotations

import time

import pygit2
from django.conf import settings
from pygit2.enums import DeltaStatus

from .bounded import bounded_call
from .scan import ScanResult, leak_fingerprint
from .trees import BLOB, BLOB_EXECUTABLE, COMMIT
from .walker import BlobScanner, Leak, reads_fast

BLOB_MODES = {BLOB, BLOB_EXECUTABLE}
WHERE = "the index"
ZERO = pygit2.Oid(hex="0" * 40)


def staged_changes(repo: pygit2.Repository) -> list[tuple[str, int, pygit2.Oid, pygit2.Oid | None]]:
    """(path, mode, staged blob id, HEAD's blob id or None) for every path the index adds or
    changes against HEAD (every index entry when HEAD is unborn). Deletions scan nothing."""
    if repo.is_bare:
        raise ValueError(f"{repo.path}: a bare repository has no staged changes")
    index = repo.index
    if repo.head_is_unborn:
        return [(e.path, e.mode, e.id, None) for e in index]
    changes = []
    for delta in index.diff_to_tree(repo.head.peel(pygit2.Commit).tree).deltas:
        if delta.status == DeltaStatus.DELETED or delta.new_file.id == ZERO:  # deleted, or a conflict's gap
            continue
        new, old = delta.new_file, delta.old_file
        old_id = old.id if old.id != ZERO and old.mode in BLOB_MODES else None
        changes.append((new.path, new.mode, new.id, old_id))
    return changes


def staged_scan_unbounded(*, repo: pygit2.Repository, detector, baseline: set[str] = frozenset()) -> ScanResult:
    """The leaks the staged changes add. A leak has no commit yet: `commit` and `commit_date` are
    empty and `still_at_head` is false."""
    start = time.perf_counter()
    reads_fast()
    scanner = BlobScanner(repo, detector, settings.BOTAUDIT_GIT_MAX_BLOB_BYTES)
    leaks: dict = {}
    for path, mode, new_id, old_id in staged_changes(repo):
        if mode not in BLOB_MODES:
            if mode == COMMIT:
                scanner.stats.skipped["submodule"] += 1
            continue
        for m in scanner.scan(new_id, path, WHERE, old_id):
            leak = Leak(m.rule_id, path, m.line, "", "", m.redacted, m.secret_fingerprint,
                        confidence=m.confidence, reasons=m.reasons)
            leaks.setdefault(leak.key, leak)
    scanner.stats.commits = 0
    kept = sorted((leak for leak in leaks.values() if leak_fingerprint(leak) not in baseline),
                  key=lambda x: (x.file, x.line, x.rule_id))
    return ScanResult(leaks=kept, stats=scanner.stats, errors=scanner.errors, seconds=time.perf_counter() - start)


def staged_scan(*, repo: pygit2.Repository, **kw) -> ScanResult:
    """`staged_scan_unbounded` in a child process bounded by BOTAUDIT_GIT_SCAN_TIME_LIMIT seconds
    (0: in this process), as every scan."""
    limit = settings.BOTAUDIT_GIT_SCAN_TIME_LIMIT
    if not limit:
        return staged_scan_unbounded(repo=repo, **kw)
    return bounded_call(lambda: staged_scan_unbounded(repo=repo, **kw), seconds=limit,
                        what=f"staged scan of {repo.path}")
