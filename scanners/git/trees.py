"""What a commit adds or changes against its first parent, read from the raw tree objects.

Same result as libgit2's tree-to-tree diff with default options (no rename or type-change
detection: a path whose type changes is a deletion plus an addition), without its per-commit cost:
unchanged subtrees are skipped by id, parsed trees are cached, and only additions and
modifications are produced (a deletion adds nothing to scan)."""

from __future__ import annotations

import re

import pygit2

_ENTRY = re.compile(rb"([0-7]+) ([^\0]*)\0(.{20})", re.S)
_TREE = re.compile(rb"(?:[0-7]+ [^\0]*\0.{20})*", re.S)
TREE, BLOB, BLOB_EXECUTABLE, LINK, COMMIT = 0o040000, 0o100644, 0o100755, 0o120000, 0o160000
TYPE_BITS = 0o170000
CACHE_ENTRIES = 20_000  # parsed tree entries per generation (two generations kept)
# How much of a pack file one process maps (bytes), in libgit2 and in git alike: windows of 8 MB
# under 32 MB in all, instead of the whole pack resident in every process (celery's is 67 MB); 4 MB
# under 16 MB cost 0.8 s more system time remapping
PACK_WINDOW, PACK_MAPPED = 8 << 20, 32 << 20


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

    def __init__(self, odb, damaged=None):
        self.odb = odb
        self.damaged = damaged or {}  # {raw id: why}: damaged loose objects, never handed to libgit2
        self.cache: dict = {}
        self.older: dict = {}
        self.cached = 0
        self.modes: dict = {}

    def entries(self, raw_id: bytes) -> list:
        """[(raw mode, name, raw id)] in the tree's own (git) order."""
        found = self.cache.get(raw_id)
        if found is not None:
            return found
        found = self.older.get(raw_id)
        if found is not None:
            self.cache[raw_id] = found
            self.cached += len(found) + 1
            return found
        if raw_id in self.damaged:
            raise ValueError(f"tree {raw_id.hex()} unreadable: {self.damaged[raw_id]}")
        data = self.odb.read(pygit2.Oid(raw=raw_id))[1]
        if _TREE.fullmatch(data) is None:
            raise ValueError(f"tree {raw_id.hex()} is malformed")
        found = _ENTRY.findall(data)
        if self.cached > CACHE_ENTRIES:  # keep the newer half: neighbouring commits share most trees
            self.older, self.cache, self.cached = self.cache, {}, 0
        self.cache[raw_id] = found
        self.cached += len(found) + 1
        return found

    def entry_at(self, tree_id: bytes, path: str):
        """(mode, raw id) of the entry at `path` under tree `tree_id`, or None."""
        *folders, name = path.split("/")
        for part in [*folders, name]:
            found = [e for e in self.entries(tree_id) if e[1].decode("utf-8", "replace") == part]
            if not found:
                return None
            mode, tree_id = self.mode(found[0][0]), found[0][2]
            if part is not name and mode != TREE:
                return None
        return mode, tree_id

    def mode(self, raw: bytes) -> int:
        found = self.modes.get(raw)
        if found is None:
            found = self.modes[raw] = mode_normalize(int(raw, 8))
        return found

    def changes(self, old_id: bytes | None, new_id: bytes, prefix: str = "") -> list:
        """[(path, mode, raw id, raw id of the old blob when modified in place else None)] for
        every non-tree entry that `new_id` adds or changes against `old_id` (None: empty tree),
        in git's path order (the trees' own order)."""
        out = []
        self._changes(old_id, new_id, prefix, out)
        return out

    def merge_changes(self, changes: list, others: list, new_id: bytes) -> list:
        """The `changes` (against a merge's first parent) that differ from every other parent too:
        a file the merge takes unchanged from another parent was introduced there, not here (git's
        combined diff). `others` are the other parents' tree ids."""
        for other in others:
            differs = {(path, sha) for path, _mode, sha, _old in self.changes(other, new_id)}
            changes = [change for change in changes if (change[0], change[2]) in differs]
        return changes

    def _changes(self, old_id, new_id, prefix, out) -> None:
        new = self.entries(new_id)
        old = self.entries(old_id) if old_id is not None else []
        if len(old) == len(new):  # usually the same names in the same places: compare in place
            changed = [(entry, was) for entry, was in zip(new, old, strict=True) if entry != was]
            if any(entry[1] != was[1] for entry, was in changed):
                changed = None
        else:
            changed = None
        if changed is None:
            by_name = {name: (raw_mode, name, sha) for raw_mode, name, sha in old}
            changed = [(entry, by_name.get(entry[1])) for entry in new if by_name.get(entry[1]) != entry]
        for (raw_mode, name, sha), was in changed:
            mode = self.mode(raw_mode)
            if was is not None:
                was = (self.mode(was[0]), was[2])
                if was == (mode, sha):  # e.g. 100664 -> 100644: the same to libgit2
                    continue
            path = prefix + name.decode("utf-8", "replace")
            if mode == TREE:
                self._changes(was[1] if was is not None and was[0] == TREE else None, sha, path + "/", out)
            elif was is not None and was[0] != TREE and was[0] & TYPE_BITS == mode & TYPE_BITS:
                out.append((path, mode, sha, was[1]))
            else:
                out.append((path, mode, sha, None))

