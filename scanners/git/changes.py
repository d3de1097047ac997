"""What each commit of a walk adds or changes, listed by git itself: one `git log --raw` over the
whole walk does the tree-to-tree diffs in C (celery's 25,788 commits: 0.6 s, against 2 s of tree
parsing in Python and 3.7 s through libgit2's diff API). Same result as `TreeReader.changes` (and
`merge_changes` for merges: git's combined diff lists only the paths that differ from every parent).

The repository's own configuration cannot change what is listed (no replace refs, no renames,
roots shown) and no user or system configuration is read. Without a `git` executable, or when git
fails (a damaged pack), the caller lists changes through `TreeReader`, which names what it cannot
read."""

from __future__ import annotations

import os
import shutil
import subprocess

from .trees import TYPE_BITS, mode_normalize

GIT_CONFIG = ("-c", "log.showRoot=true", "-c", "log.showSignature=false", "-c", "diff.renames=false",
              "-c", "core.quotePath=false")
HEADER = b"\x01"


def _git_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return {**env, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0",
            "GIT_NO_REPLACE_OBJECTS": "1", "LC_ALL": "C"}


def changes_listed(git_dir: str, tips, hide=()) -> dict | None:
    """{raw commit id: that commit's raw diff records (NUL-separated, for `changes_parse`)} for
    every commit reachable from `tips` (commit ids) and not from `hide`, or None when git is not
    installed or fails."""
    git = shutil.which("git")
    if git is None or not tips:
        return None
    revs = "".join(f"{oid}\n" for oid in tips) + "".join(f"^{oid}\n" for oid in hide)
    cmd = [git, f"--git-dir={git_dir}", *GIT_CONFIG, "log", "--stdin", "--raw", "-c", "--no-renames",
           "--no-abbrev", "-z", "--no-color", "--no-ext-diff", "--format=%x01%H"]
    try:
        done = subprocess.run(cmd, input=revs.encode(), capture_output=True, env=_git_env(), check=False)
    except OSError:
        return None
    if done.returncode != 0:
        return None
    return _sections(done.stdout)


def _sections(out: bytes) -> dict:
    """Split git's output per commit. Read in order, token by token: a record's path follows its
    record, so a path may hold any byte (even the header mark) without being taken for a commit."""
    tokens = out.split(b"\0")
    sections, commit, start, i, n = {}, None, 0, 0, len(tokens)
    while i < n:
        token = tokens[i].removeprefix(b"\n")  # git ends a commit's header with NUL, newline
        if token[:1] == b":":
            i += 2
            continue
        if token[:1] == HEADER and len(token) > 1:
            if commit is not None:
                sections[commit] = b"\0".join(tokens[start:i])
            commit, start = bytes.fromhex(token[1:].decode()), i + 1
        i += 1
    if commit is not None:
        sections[commit] = b"\0".join(tokens[start:n])
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
