"""What each commit of a walk adds or changes, listed by git itself: one `git log --raw` over the
whole walk does the tree-to-tree diffs in C (celery's 25,788 commits: 0.9 s, against 2 s of tree
parsing in Python and 3.7 s through libgit2's diff API). Same result as `TreeReader.changes` (and
`merge_changes` for merges: git's combined diff lists only the paths that differ from every parent).

The repository's own configuration cannot change what is listed (no replace refs, no renames,
roots shown) and no user or system configuration is read. Without a `git` executable, or when git
fails (a damaged pack), the caller lists changes through `TreeReader`, which names what it cannot
read."""

from __future__ import annotations

import mmap
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping

from .trees import TYPE_BITS, mode_normalize

# What the repository's own configuration could change about the listing, or make git run, pinned
# (`git log --raw` reads no index, runs no hook, pager, textconv or external diff)
GIT_CONFIG = ("-c", "log.showRoot=true", "-c", "log.showSignature=false", "-c", "diff.renames=false",
              "-c", "core.quotePath=false", "-c", "core.fsmonitor=false", "-c", "core.pager=cat")


def _git_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return {**env, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0",
            "GIT_NO_REPLACE_OBJECTS": "1", "LC_ALL": "C"}


class Listing(Mapping):
    """{raw commit id: that commit's raw diff records} read from git's output file on demand, mapped
    read-only (a slice is one copy, no system call: 25,788 preads cost 0.3 s; the pages are the page
    cache's, shared by the worker processes forked after): only the offsets stay in the heap (~3 MB
    for celery's 25,788 commits, against 11 MB of records). Also which blobs
    are too large to scan (`blobs_larger`)."""

    def __init__(self, file, offsets: dict, large: set | None = None):
        self.file, self.offsets = file, offsets
        self.large = large  # raw ids of the blobs over the size limit (None: not known, ask libgit2)
        size = os.fstat(file.fileno()).st_size
        self._map = mmap.mmap(file.fileno(), size, prot=mmap.PROT_READ) if size else b""

    def __getitem__(self, raw: bytes) -> bytes:
        start, end, _when = self.offsets[raw]
        return self._map[start:end]

    def commit_time(self, raw: bytes) -> int:
        """The commit's committer time (seconds since the epoch, as pygit2's `commit_time`)."""
        return self.offsets[raw][2]

    def __iter__(self):
        return iter(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets)

    def close(self) -> None:
        if isinstance(self._map, mmap.mmap):
            self._map.close()
        self.file.close()


def changes_listed(git_dir: str, tips, hide=(), *, larger_than: int | None = None) -> Listing | None:
    """{raw commit id: that commit's raw diff records (NUL-separated, for `changes_parse`)} for
    every commit reachable from `tips` (commit ids) and not from `hide`, or None when git is not
    installed or fails. With `larger_than`, the listing's `large` holds the blobs over that size
    (`blobs_larger`, listed by another git process meanwhile)."""
    git = shutil.which("git")
    if git is None or not tips:
        return None
    revs = "".join(f"{oid}\n" for oid in tips) + "".join(f"^{oid}\n" for oid in hide)
    cmd = [git, f"--git-dir={git_dir}", *GIT_CONFIG, "log", "--stdin", "--raw", "-c", "--no-renames",
           "--no-abbrev", "-z", "--no-color", "--no-ext-diff", "--format=%x01%H %ct"]
    # into a file, not a pipe: where pipes are slow (a sandboxed kernel: 3 s of system time for
    # celery's 11 MB), a file costs 0.1 s
    out = tempfile.TemporaryFile()  # noqa: SIM115 - kept open by the Listing, closed by its reader
    sizes = _blobs_larger_start(git, git_dir, larger_than) if larger_than is not None else None
    try:
        done = subprocess.run(cmd, input=revs.encode(), stdout=out, stderr=subprocess.DEVNULL, env=_git_env(),
                              check=False)
        offsets = _sections(os.pread(out.fileno(), os.fstat(out.fileno()).st_size, 0)) if done.returncode == 0 else None
    except OSError:
        offsets = None
    large = _blobs_larger_end(sizes, larger_than) if sizes is not None else None
    if offsets is None:
        out.close()
        return None
    return Listing(out, offsets, large)


def _blobs_larger_start(git: str, git_dir: str, limit: int):
    """`git cat-file` listing every object's type and size (celery's 165k objects: 0.3 s), started."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _blobs_larger_end
    cmd = [git, f"--git-dir={git_dir}", *GIT_CONFIG, "cat-file", "--batch-all-objects", "--unordered",
           "--batch-check=%(objecttype) %(objectsize) %(objectname)"]
    try:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.DEVNULL,
                                env=_git_env()), out
    except OSError:
        out.close()
        return None


def _blobs_larger_end(started, limit: int) -> set | None:
    """The raw ids of the blobs over `limit` bytes (`_blobs_larger_start`'s listing), or None when
    git failed: the scanner then asks libgit2 for each blob's size (1 s of celery's scan)."""
    proc, out = started
    with out:
        if proc.wait() != 0:
            return None
        listing = os.pread(out.fileno(), os.fstat(out.fileno()).st_size, 0)
    digits = len(str(limit))  # only sizes of as many digits as the limit, or more, are read
    big = re.compile(rb"^blob ([0-9]{%d,}) ([0-9a-f]{40,64})$" % digits, re.MULTILINE)
    return {bytes.fromhex(m.group(2).decode()) for m in big.finditer(listing) if int(m.group(1)) > limit}


# git's -z output, token by token: a commit's header, a record with its path (so a path may hold
# any byte, even the header mark, and is never taken for a header), or a separator.
_TOKEN = re.compile(rb"\x01([0-9a-f]{40,64}) ([0-9]+)\0|\n?:[^\0]*\0[^\0]*\0|\0|\n")


def _sections(out: bytes) -> dict | None:
    """{raw commit id: (start, end) of its records in `out`, commit time} (None if it is not the
    expected shape)."""
    sections, commit, when, start, pos = {}, None, 0, 0, 0
    for m in _TOKEN.finditer(out):
        if m.start() != pos:
            return None
        pos = m.end()
        if m.group(1) is not None:
            if commit is not None:
                sections[commit] = (start, m.start(), when)
            commit, when, start = bytes.fromhex(m.group(1).decode()), int(m.group(2)), pos
    if pos != len(out):
        return None
    if commit is not None:
        sections[commit] = (start, len(out), when)
    return sections


def changes_parse(section: bytes) -> list:
    """[(path, mode, raw id, raw id of the first parent's blob when modified in place else None)]
    for every non-tree entry the commit adds or changes (deletions add nothing to scan)."""
    tokens = section.split(b"\0")
    out, i, n = [], 0, len(tokens)
    while i < n:
        record = tokens[i].removeprefix(b"\n")
        if record[:1] != b":":
            i += 1
            continue
        path = tokens[i + 1].decode("utf-8", "replace")
        i += 2
        parents = len(record) - len(record.lstrip(b":"))
        fields = record[parents:].split(b" ")
        modes, ids = fields[:parents + 1], fields[parents + 1:2 * parents + 2]
        new_id = ids[parents]
        if not new_id.strip(b"0"):  # deleted: nothing to scan
            continue
        mode = mode_normalize(int(modes[parents], 8))
        old_mode = mode_normalize(int(modes[0], 8))
        same_type = ids[0].strip(b"0") != b"" and old_mode & TYPE_BITS == mode & TYPE_BITS
        out.append((path, mode, bytes.fromhex(new_id.decode()), bytes.fromhex(ids[0].decode()) if same_type else None))
    return out
