"""What a commit adds or changes against its first parent, read from the raw tree objects.

Same result as libgit2's tree-to-tree diff with default options (no rename or type-change
detection: a path whose type changes is a deletion plus an addition), without its per-commit cost:
unchanged subtrees are skipped by id, parsed trees are cached, and only additions and
modifications are produced (a deletion adds nothing to scan)."""

from __future__ import annotations

import re

import pygit2

_ENTRY = re.compile(rb"([0-7]+) ([^\0]*)\0(.{20})", re.S)
TREE, BLOB, BLOB_EXECUTABLE, LINK, COMMIT = 0o040000, 0o100644, 0o100755, 0o120000, 0o160000
TYPE_BITS = 0o170000
CACHE_ENTRIES = 200_000  # parsed tree entries kept (all of them are dropped when exceeded)


def mode_normalize(mode: int) -> int:
    """libgit2's reading of a tree entry's mode (e.g. the historical 100664 is a plain blob)."""
    if mode & TYPE_BITS == TREE:
        return TREE
    if mode & 0o111:
        return BLOB_EXECUTABLE
    if mode & TYPE_BITS == COMMIT:
        return COMMIT
    if mode & TYPE_BITS == LINK:
        return LINK
    return BLOB


class TreeReader:
    """Parses tree objects (cached by id) and lists what changed between two trees."""

    def __init__(self, odb):
        self.odb = odb
        self.cache: dict = {}
        self.cached = 0
        self.modes: dict = {}

    def entries(self, raw_id: bytes) -> dict:
        """{name: (mode, raw id)} in the tree's own (git) order."""
        found = self.cache.get(raw_id)
        if found is not None:
            return found
        data = self.odb.read(pygit2.Oid(raw=raw_id))[1]
        modes = self.modes
        found, size = {}, 0
        for mode, name, sha in _ENTRY.findall(data):
            m = modes.get(mode)
            if m is None:
                m = modes[mode] = mode_normalize(int(mode, 8))
            found[name] = (m, sha)
            size += len(mode) + len(name) + 22
        if size != len(data):
            raise ValueError(f"tree {raw_id.hex()} is malformed")
        if self.cached > CACHE_ENTRIES:
            self.cache.clear()
            self.cached = 0
        self.cache[raw_id] = found
        self.cached += len(found) + 1
        return found

    def changes(self, old_id: bytes | None, new_id: bytes, prefix: str = "") -> list:
        """[(path, mode, raw id, raw id of the old blob when modified in place else None)] for
        every non-tree entry that `new_id` adds or changes against `old_id` (None: empty tree)."""
        out = []
        self._changes(old_id, new_id, prefix, out)
        return out

    def _changes(self, old_id, new_id, prefix, out) -> None:
        old = self.entries(old_id) if old_id is not None else {}
        for name, entry in self.entries(new_id).items():
            was = old.get(name)
            if was == entry:
                continue
            mode, sha = entry
            path = prefix + name.decode("utf-8", "replace")
            if mode == TREE:
                self._changes(was[1] if was is not None and was[0] == TREE else None, sha, path + "/", out)
            elif was is not None and was[0] != TREE and was[0] & TYPE_BITS == mode & TYPE_BITS:
                out.append((path, mode, sha, was[1]))
            else:
                out.append((path, mode, sha, None))
