"""The scanner's two shortcuts give exactly what the plain definitions give: the raw tree reader
matches libgit2's tree-to-tree diff, and the prefix/suffix added-line computation matches the set
difference of the two blobs' lines."""

import random
import subprocess

import pygit2
from pygit2.enums import DeltaStatus, FileMode

from scanners.git.changes import changes_parse, changes_stream, large_blobs, large_blobs_start
from scanners.git.lines import CLOSE_ENOUGH, _common_prefix, _common_suffix, added_lines, changed_span
from scanners.git.trees import TreeReader
from scanners.git.walker import _commits_walk

NEW_CONTENT = {DeltaStatus.ADDED, DeltaStatus.MODIFIED, DeltaStatus.RENAMED, DeltaStatus.COPIED,
               DeltaStatus.TYPECHANGE}
NAMES = ["a", "a.b", "a-b", "b", "z", "\xe9t\xe9"]
MODES = [FileMode.BLOB, FileMode.BLOB_EXECUTABLE, FileMode.LINK, FileMode.COMMIT]


class _Trees:
    """Random nested trees with blobs, executables, symlinks, submodules and dir <-> file swaps."""

    def __init__(self, repo, rng, names=NAMES):
        self.repo, self.rng, self.names = repo, rng, names
        self.blobs = [repo.create_blob(f"content {i}\n".encode()) for i in range(5)]
        self.gitlink = pygit2.Oid(hex="1" * 40)

    def _leaf(self, tb, name):
        mode = self.rng.choice(MODES)
        tb.insert(name, self.gitlink if mode == FileMode.COMMIT else self.rng.choice(self.blobs), mode)

    def make(self, depth=0):
        tb = self.repo.TreeBuilder()
        for name in self.rng.sample(self.names, self.rng.randint(0, len(self.names))):
            if self.rng.random() < 0.3 and depth < 3:
                tb.insert(name, self.make(depth + 1), FileMode.TREE)
            else:
                self._leaf(tb, name)
        return tb.write()

    def mutate(self, tree_id, depth=0):
        tree = self.repo[tree_id]
        tb = self.repo.TreeBuilder(tree)
        for entry in list(tree):
            roll = self.rng.random()
            if roll > 0.4:
                continue
            if entry.filemode == FileMode.TREE and roll < 0.25:
                tb.insert(entry.name, self.mutate(entry.id, depth + 1), FileMode.TREE)
            elif roll < 0.1:
                tb.remove(entry.name)
            elif roll < 0.15 and depth < 3:
                tb.insert(entry.name, self.make(depth + 1), FileMode.TREE)
            else:
                self._leaf(tb, entry.name)
        return tb.write()


def _libgit2(repo, old, new):
    diff = repo.diff(repo[old], repo[new]) if old is not None else repo[new].diff_to_tree(swap=True)
    return [(d.new_file.path, int(d.new_file.mode), str(d.new_file.id),
             str(d.old_file.id) if d.status == DeltaStatus.MODIFIED else None)
            for d in diff.deltas if d.status in NEW_CONTENT]


def test_tree_reader_matches_libgit2_tree_diff(tmp_path):
    repo = pygit2.init_repository(str(tmp_path / "r"), bare=True)
    trees = _Trees(repo, random.Random(3))
    compared = 0
    for _ in range(400):
        old = trees.make()
        new = trees.mutate(old) if trees.rng.random() < 0.8 else trees.make()
        reader = TreeReader(repo.odb)
        for base in (old, None):
            mine = [(path, mode, str(pygit2.Oid(raw=sha)), str(pygit2.Oid(raw=was)) if was else None)
                    for path, mode, sha, was in reader.changes(base.raw if base else None, new.raw)]
            expected = _libgit2(repo, base, new)
            assert mine == expected
            compared += len(expected)
    assert compared > 1000


def test_tree_reader_rejects_a_malformed_tree(tmp_path):
    repo = pygit2.init_repository(str(tmp_path / "r"), bare=True)
    bad = repo.odb.write(pygit2.enums.ObjectType.TREE, b"100644 name-without-id\0short")
    try:
        TreeReader(repo.odb).changes(None, bad.raw)
    except ValueError as exc:
        assert bad.raw.hex() in str(exc)
    else:
        raise AssertionError("a malformed tree was read without an error")


def _set_difference(old: bytes, new: bytes):
    old_lines, new_lines = set(old.split(b"\n")), new.split(b"\n")
    return [(n, line) for n, line in enumerate(new_lines, 1) if line not in old_lines]


def test_added_lines_equal_the_set_difference():
    rng = random.Random(5)
    words = [b"alpha", b"beta = 1", b"", b"x" * 30, b"key = 'v'"]
    for _ in range(3000):
        size = rng.randint(0, rng.choice([60, 60, 600]))  # long enough that the span is approximate
        lines = [rng.choice(words) + str(rng.randint(0, 20)).encode() for _ in range(size)]
        old = b"\n".join(lines) + (b"\n" if rng.random() < 0.7 else b"")
        for _ in range(rng.randint(0, 4)):
            roll, size = rng.random(), len(lines)
            if roll < 0.4:
                lines[rng.randint(0, size):rng.randint(0, size)] = [rng.choice(words) for _ in range(rng.randint(0, 5))]
            elif roll < 0.7 and lines:
                del lines[rng.randrange(size):rng.randrange(size) + 3]
            else:
                lines.extend(rng.choice(words) for _ in range(rng.randint(0, 8)))
        new = b"\n".join(lines) + (b"\n" if rng.random() < 0.7 else b"")
        if rng.random() < 0.1:
            new = old * 2
        cut, suffix = span = changed_span(old, new)
        assert cut == 0 or new[cut - 1:cut] == b"\n" == old[cut - 1:cut]  # a line start in both
        assert old[:cut] == new[:cut] and old[len(old) - suffix:] == new[len(new) - suffix:]
        assert cut + suffix <= min(len(old), len(new))
        cut, added = added_lines(old, new, span)
        first = new.count(b"\n", 0, cut)
        assert [(first + n, line) for n, line in added] == _set_difference(old, new)


HOSTILE_NAMES = [*NAMES, "\x01" + "ab" * 20, ":100644 100644 x y M", "\n:", "\x01", "sp ace"]


def test_git_listed_changes_match_the_tree_reader_for_every_commit(tmp_path):
    """One `git log --raw` over a walk of random trees (merges of two and three parents, type
    changes, submodules, names that look like git's own records) lists, commit by commit and in the
    walk's order, what the tree reader lists."""
    repo = pygit2.init_repository(str(tmp_path / "r"), bare=True)
    rng = random.Random(11)
    trees = _Trees(repo, rng, HOSTILE_NAMES)
    sig = pygit2.Signature("t", "t@example.com", 1_700_000_000, 0)
    commits = [repo.create_commit(None, sig, sig, "root", trees.make(), [])]
    for i in range(150):
        parents = rng.sample(commits[-8:], min(len(commits), rng.choice([1, 1, 1, 2, 3])))
        tree = trees.mutate(repo[parents[0]].tree_id) if rng.random() < 0.8 else trees.make()
        commits.append(repo.create_commit(None, sig, sig, f"c{i}", tree, parents))
    hidden = commits[40]
    walk, errors = _commits_walk(repo, [commits[-1], commits[-2]], [hidden], {})
    reachable = {c.id for c in repo.walk(commits[-1])} | {c.id for c in repo.walk(commits[-2])}
    assert errors == [] and set(walk) == reachable - {c.id for c in repo.walk(hidden)}
    stream = changes_stream(repo.path, walk)
    listed = stream.listed(0, len(walk))
    stream.close()
    assert list(listed) == [c.raw for c in walk]
    reader, compared, merges = TreeReader(repo.odb), 0, 0
    for raw, (section, when) in listed.items():
        commit = repo[pygit2.Oid(raw=raw)]
        assert when == commit.commit_time
        expected = _reader_changes(repo, reader, commit)
        assert sorted(changes_parse(section)) == sorted(expected), commit.id
        compared += len(expected)
        merges += len(commit.parent_ids) > 1
    assert compared > 300 and merges > 10


def _reader_changes(repo, reader, commit):
    """What the tree reader lists for `commit`, as commits_scan asks it (a merge: combined)."""
    parents = commit.parent_ids
    found = reader.changes(repo[parents[0]].tree_id.raw if parents else None, commit.tree_id.raw)
    if len(parents) > 1:
        found = reader.merge_changes(found, [repo[p].tree_id.raw for p in parents[1:]], commit.tree_id.raw)
    return found


def test_common_prefix_and_suffix_are_found_to_within_close_enough():
    rng = random.Random(3)
    for _ in range(2000):
        a = bytes(rng.choice(b"ab\n") for _ in range(rng.randint(0, 3000)))
        b = bytearray(a)
        for _ in range(rng.randint(0, 3)):
            cut = rng.randint(0, len(b))
            b[cut:cut + rng.randint(0, 9)] = bytes(rng.choice(b"abc") for _ in range(rng.randint(0, 9)))
        b = bytes(b)
        exact = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
        found = _common_prefix(a, b)
        assert a[:found] == b[:found] and exact - CLOSE_ENOUGH <= found <= exact
        limit = rng.randint(0, min(len(a), len(b)))
        exact = next((i for i in range(limit) if a[len(a) - 1 - i] != b[len(b) - 1 - i]), limit)
        found = _common_suffix(a, b, limit)
        assert a[len(a) - found:] == b[len(b) - found:] and exact - CLOSE_ENOUGH <= found <= exact


def test_git_lists_the_blobs_over_the_size_limit(tmp_path):
    """The listing's `large` is exactly the blobs libgit2 finds over the limit (loose and packed, at
    the limit and one byte over), so the scanner never asks libgit2 for a size."""
    repo = pygit2.init_repository(str(tmp_path / "r"), bare=True)
    sig = pygit2.Signature("t", "t@example.com", 1_700_000_000, 0)
    tb = repo.TreeBuilder()
    for size in (10, 999, 1000, 1001, 123_456):
        tb.insert(f"f{size}", repo.create_blob(b"x" * size), FileMode.BLOB)
    tip = repo.create_commit(None, sig, sig, "root", tb.write(), [])
    expected = {e.id.raw for e in repo[tip].tree if repo.odb.read_header(e.id)[1] > 1000}
    assert len(expected) == 2
    assert large_blobs(large_blobs_start(repo.path, 1000)) == expected
    unwanted = large_blobs_start(repo.path, 1000)  # a walk too small to need it: git is stopped and reaped
    assert large_blobs(unwanted, wanted=False) is None and unwanted[0].returncode is not None
    subprocess.run(["git", f"--git-dir={repo.path}", "gc", "-q"], check=True)
    assert large_blobs(large_blobs_start(repo.path, 1000)) == expected


def test_git_listing_is_none_without_git(tmp_path, monkeypatch):
    repo = pygit2.init_repository(str(tmp_path / "r"), bare=True)
    sig = pygit2.Signature("t", "t@example.com", 1_700_000_000, 0)
    tip = repo.create_commit(None, sig, sig, "root", repo.TreeBuilder().write(), [])
    stream = changes_stream(repo.path, [tip])
    assert stream.listed(0, 1) == {tip.raw: (b"", 1_700_000_000)}
    stream.close()
    monkeypatch.setenv("PATH", str(tmp_path))  # no git here: the tree reader lists the changes
    assert changes_stream(repo.path, [tip]) is None
    assert large_blobs_start(repo.path, 1000) is None and large_blobs(None) is None  # libgit2 gives sizes


def test_the_repository_s_own_config_changes_nothing_in_git_s_listing_and_runs_nothing(tmp_path):
    """Roots hidden, renames on, signatures shown, a pager, an external diff, an fsmonitor and a
    GPG program that would leave a mark, and a replace ref swapping a commit: the listing is still
    the tree reader's, and nothing ran."""
    repo = pygit2.init_repository(str(tmp_path / "r"), bare=True)
    trees, sig = _Trees(repo, random.Random(5)), pygit2.Signature("t", "t@example.com", 1_700_000_000, 0)
    commits = [repo.create_commit(None, sig, sig, "root", trees.make(), [])]
    for i in range(30):
        commits.append(repo.create_commit(None, sig, sig, f"c{i}", trees.mutate(repo[commits[-1]].tree_id),
                                          [commits[-1]]))
    mark = tmp_path / "ran"
    script = tmp_path / "run.sh"
    script.write_text(f"#!/bin/sh\ntouch {mark}\n")
    script.chmod(0o755)
    for key, value in [("log.showRoot", "false"), ("diff.renames", "copies"), ("log.showSignature", "true"),
                       ("core.pager", str(script)), ("diff.external", str(script)),
                       ("core.fsmonitor", str(script)), ("gpg.program", str(script))]:
        repo.config[key] = value
    repo.references.create(f"refs/replace/{commits[10]}", commits[20])
    stream = changes_stream(repo.path, commits)
    listed = stream.listed(0, len(commits))
    stream.close()
    reader = TreeReader(repo.odb)
    assert len(listed) == len(commits)
    for oid in commits:
        assert sorted(changes_parse(listed[oid.raw][0])) == sorted(_reader_changes(repo, reader, repo[oid])), oid
    assert not mark.exists()
