"""One repository scan: pick the refs, walk new history, mark what is still at the tip of the
default branch, drop baselined leaks. Shared by `manage.py scan_repo` and the git probe."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pygit2
from django.conf import settings

from .walker import Leak, Stats, history_scan, still_at_head_mark, tree_scan


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


def refs_select(repo: pygit2.Repository, branches=("*",)) -> dict[str, str]:
    """{ref name: commit id} for every ref matching `branches` (glob on short names; '*' = all)."""
    tips = {}
    patterns = list(branches or ["*"])
    for name in repo.listall_references():
        if name.endswith("/HEAD") or name == "refs/stash":
            continue
        if patterns != ["*"] and not any(fnmatch.fnmatchcase(_short(name), p) for p in patterns):
            continue
        try:
            commit = repo.references[name].peel(pygit2.Commit)
        except (pygit2.GitError, KeyError, ValueError, pygit2.InvalidSpecError):
            continue
        tips[name] = str(commit.id)
    return tips


def default_head(repo: pygit2.Repository):
    """The commit at the tip of the default branch (HEAD, else main/master), or None."""
    try:
        if not repo.head_is_unborn:
            return repo.head.peel(pygit2.Commit)
    except pygit2.GitError:
        pass
    for name in ("refs/heads/main", "refs/heads/master"):
        if name in repo.references:
            return repo.references[name].peel(pygit2.Commit)
    return None


def repo_scan(*, repo: pygit2.Repository, detector, branches=("*",), hide=(), no_history=False,
              since: str | None = None, known: list[Leak] = (), baseline: set[str] = frozenset(),
              workers: int | None = None) -> ScanResult:
    """Scan `repo`. `hide` (commit ids) or `since` (a revision) limits the walk to newer commits;
    `known` leaks from earlier runs are kept (their first commit wins) and re-marked at head."""
    start = time.perf_counter()
    max_blob = settings.BOTAUDIT_GIT_MAX_BLOB_BYTES
    tips = refs_select(repo, branches)
    head = default_head(repo)
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
            max_blob_bytes=max_blob, workers=workers,
        )
    leaks = {leak.key: leak for leak in known}
    for key, leak in found.items():
        leaks.setdefault(key, leak)
    kept = [leak for leak in leaks.values() if leak_fingerprint(leak) not in baseline]
    errors += still_at_head_mark(repo, detector, kept, head, max_blob_bytes=max_blob)
    kept.sort(key=lambda x: (x.commit_date, x.file, x.line, x.rule_id))
    return ScanResult(leaks=kept, stats=stats, errors=errors, tips=tips, seconds=time.perf_counter() - start)
