"""What each commit of a walk adds or changes, listed by git itself: one `git log --raw` over the
whole walk does the tree-to-tree diffs in C (celery's 25,788 commits: 0.5-0.9 s, against 2 s of tree
parsing in Python and 3.7 s through libgit2's diff API), in the walk's order, read while git writes
it (the scan starts on the first commits listed). Same result as `TreeReader.changes` (and
`merge_changes` for merges: git's combined diff lists only the paths that differ from every parent).

The repository's own configuration cannot change what is listed (no replace refs, no renames,
roots shown) and no user or system configuration is read. Without a `git` executable, or when git
fails (a damaged pack), the caller lists changes through `TreeReader`, which names what it cannot
read."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

from .trees import PACK_MAPPED, PACK_WINDOW, TYPE_BITS, mode_normalize

# What the repository's own configuration could change about the listing, or make git run, pinned
# (`git log --raw` reads no index, runs no hook, pager, textconv or external diff); and git maps as
# much of a pack as the scanning processes do (the whole pack: 103 MB RSS for celery, 50 MB so)
GIT_CONFIG = ("-c", "log.showRoot=true", "-c", "log.showSignature=false", "-c", "diff.renames=false",
              "-c", "core.quotePath=false", "-c", "core.fsmonitor=false", "-c", "core.pager=cat",
              "-c", f"core.packedGitWindowSize={PACK_WINDOW}", "-c", f"core.packedGitLimit={PACK_MAPPED}")


def _git_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return {**env, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0",
            "GIT_NO_REPLACE_OBJECTS": "1", "LC_ALL": "C"}


class Sections:
    """git's `-z` listing read piece by piece, as git writes it: [(start, end, commit time)] of each
    commit's records, in order, found by reading token by token from the start (a path may hold any
    byte, even the header mark, and is never taken for a header). A commit's records are complete
    once the next commit's header (or, with `finish`, the end of the listing) is read."""

    TAIL_MAX = 1 << 20  # an unfinished token longer than this is not git's: the listing is malformed

    def __init__(self):
        self.found: list = []  # [(raw commit id, start, end, commit time)]
        self._tail, self._base = b"", 0  # unread bytes (an unfinished token) and where they start
        self._open = None  # (raw id, start of its records, commit time) of the last header read
        self.malformed = False

    def feed(self, data: bytes) -> None:
        data, pos = self._tail + data, 0
        for m in _TOKEN.finditer(data):
            if m.start() != pos:  # (not necessarily wrong: the next token may be unfinished)
                break
            pos = m.end()
            if m.group(1) is not None:
                self._close(self._base + m.start())
                self._open = (bytes.fromhex(m.group(1).decode()), self._base + pos, int(m.group(2)))
        self._tail, self._base = data[pos:], self._base + pos
        if len(self._tail) > self.TAIL_MAX:
            self.malformed = True

    def finish(self) -> bool:
        """The listing has ended: close the last commit's records. False if it ended mid-token."""
        if self._tail:
            self.malformed = True
            return False
        self._close(self._base)
        return True

    def _close(self, end: int) -> None:
        if self._open is not None:
            raw, start, when = self._open
            self.found.append((raw, start, end, when))
            self._open = None


class ChangeStream:
    """`git log --no-walk=unsorted --stdin --raw` over the commits of a walk, in the walk's order:
    git writes each commit's records as it goes (celery's 25,788 commits: 0.5-0.9 s in all), and a
    chunk of commits can be scanned as soon as git has listed it (`part`), while git lists the rest.
    git writes to a file, not a pipe: where pipes are slow (a sandboxed kernel: 3 s of system time
    for celery's 11 MB), a file costs 0.1 s. A reader thread follows the file; only offsets stay in
    the heap. When git fails or lists something else (a damaged pack), the commits it did not list
    have no `part`: the caller reads their trees (TreeReader), which names what it cannot read."""

    POLL = 0.002  # seconds between looks at the file while git is writing

    def __init__(self, git: str, git_dir: str, commits: list):
        self.commits = [c.raw for c in commits]
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.fd = self.file.fileno()
        self.sections = Sections()
        self.done = False  # git has ended and the listing is read
        self._checked = 0  # how many of `sections.found` are the commits asked, in order
        self._cond = threading.Condition()
        with tempfile.TemporaryFile() as revs:
            revs.write(b"".join(b"%s\n" % c.hex().encode() for c in self.commits))
            revs.seek(0)
            cmd = [git, f"--git-dir={git_dir}", *GIT_CONFIG, "log", "--no-walk=unsorted", "--stdin", "--raw", "-c",
                   "--no-renames", "--no-abbrev", "-z", "--no-color", "--no-ext-diff", "--format=%x01%H %ct"]
            self.proc = subprocess.Popen(cmd, stdin=revs, stdout=self.file, stderr=subprocess.DEVNULL,
                                         env=_git_env())
        self._reader = threading.Thread(target=self._follow, name="git listing reader", daemon=True)
        self._reader.start()

    def _follow(self) -> None:
        read, sections = 0, self.sections
        try:
            while not sections.malformed:
                ended = self.proc.poll() is not None  # before the size: all git wrote is then in the file
                size = os.fstat(self.fd).st_size
                if size > read:
                    sections.feed(os.pread(self.fd, size - read, read))
                    read = size
                    self._checked_notify()
                elif ended:
                    if self.proc.returncode == 0 and sections.finish():
                        self._checked_notify()
                    break
                else:
                    time.sleep(self.POLL)
        except OSError:  # the file was closed under the reader (close() while git still wrote)
            pass
        finally:
            with self._cond:
                self.done = True
                self._cond.notify_all()

    def _checked_notify(self) -> None:
        """Wake whoever waits for a part. git listing anything but the commits asked, in their
        order, ends the listing where it differs."""
        found, asked = self.sections.found, self.commits
        with self._cond:
            for i in range(self._checked, len(found)):
                if i >= len(asked) or found[i][0] != asked[i]:
                    del found[i:]
                    self.sections.malformed = True
                    break
            self._checked = len(found)
            self._cond.notify_all()

    def part(self, start: int, end: int):
        """(first byte, end byte, [(start, end, commit time)] relative to the first byte) of the
        records of commits[start:end], once git has listed them all; None if it did not (failed)."""
        with self._cond:
            while self._checked < end and not self.done:
                self._cond.wait()
            if self._checked < end:
                return None
            found = self.sections.found[start:end]
        first, last = found[0][1], found[-1][2]
        return first, last, [(s - first, e - first, when) for _raw, s, e, when in found]

    def listed(self, start: int, end: int) -> dict | None:
        """{raw id: (records, commit time)} of commits[start:end] (see `part_read`)."""
        return part_read(self.fd, self.part(start, end), self.commits[start:end])

    def close(self) -> None:
        if self.proc.poll() is None:  # the scan ended early (it raised): git is not needed any more
            self.proc.kill()
        self.proc.wait()
        self._reader.join()
        self.file.close()


def part_read(fd: int, part, commits) -> dict | None:
    """{raw commit id: (its records, commit time)} for a `ChangeStream.part` of `commits`, read from
    git's listing file in one read (None: not listed)."""
    if part is None:
        return None
    first, last, offsets = part
    block = os.pread(fd, last - first, first)
    return {raw: (block[s:e], when) for raw, (s, e, when) in zip(commits, offsets, strict=True)}


def changes_stream(git_dir: str, commits: list) -> ChangeStream | None:
    """git listing what each of `commits` (a walk, oldest first) adds or changes, started (see
    ChangeStream), or None when git is not installed or cannot start."""
    git = shutil.which("git")
    if git is None or not commits:
        return None
    try:
        return ChangeStream(git, git_dir, commits)
    except OSError:
        return None


def large_blobs_start(git_dir: str, limit: int):
    """`git cat-file` listing every object's type and size (celery's 165k objects: 0.3 s), started,
    for `large_blobs` (None: git is not installed or cannot start)."""
    git = shutil.which("git")
    if git is None:
        return None
    out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by large_blobs
    cmd = [git, f"--git-dir={git_dir}", *GIT_CONFIG, "cat-file", "--batch-all-objects", "--unordered",
           "--batch-check=%(objecttype) %(objectsize) %(objectname)"]
    try:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.DEVNULL,
                                env=_git_env()), out, limit
    except OSError:
        out.close()
        return None


def large_blobs(started, *, wanted: bool = True) -> set | None:
    """The raw ids of the blobs over the limit (`large_blobs_start`'s listing), or None when git
    failed or was not started: the scanner then asks libgit2 for each blob's size (1 s of celery's
    scan). Not `wanted` (a walk too small to need it): git is stopped, not waited for."""
    if started is None:
        return None
    proc, out, limit = started
    with out:
        if not wanted:
            proc.kill()
            proc.wait()
            return None
        if proc.wait() != 0:
            return None
        listing = os.pread(out.fileno(), os.fstat(out.fileno()).st_size, 0)
    digits = len(str(limit))  # only sizes of as many digits as the limit, or more, are read
    big = re.compile(rb"^blob ([0-9]{%d,}) ([0-9a-f]{40,64})$" % digits, re.MULTILINE)
    return {bytes.fromhex(m.group(2).decode()) for m in big.finditer(listing) if int(m.group(1)) > limit}


# git's -z output, token by token: a commit's header, a record with its path (so a path may hold
# any byte, even the header mark, and is never taken for a header), or a separator.
_TOKEN = re.compile(rb"\x01([0-9a-f]{40,64}) ([0-9]+)\0|\n?:[^\0]*\0[^\0]*\0|\0|\n")


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
