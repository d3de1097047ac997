"""git's listing read while git writes it (changes.ChangeStream), and which chunk each scanning
process takes (shares.Shares): read in any pieces, the listing is the same; git failing, or listing
something other than what was asked, leaves the rest to the tree reader with the same findings; every
chunk is scanned exactly once, in contiguous runs."""

import os
import random
import subprocess
import threading

import pygit2
import pytest

from scanners.git import walker
from scanners.git.changes import ChangeStream, Sections, changes_stream
from scanners.git.detector import Detector
from scanners.git.rules import rules_load
from scanners.git.scan import repo_scan_unbounded
from scanners.git.shares import Shares
from tests.scanners.git.gitrepo import Repo, aws_key_id
from tests.scanners.git.test_walk_parts import HOSTILE_NAMES, _Trees


def _history(tmp_path, commits=60):
    repo = pygit2.init_repository(str(tmp_path / "r"), bare=True)
    rng = random.Random(7)
    trees = _Trees(repo, rng, HOSTILE_NAMES)
    sig = pygit2.Signature("t", "t@example.com", 1_700_000_000, 0)
    ids = [repo.create_commit(None, sig, sig, "root", trees.make(), [])]
    for i in range(commits - 1):
        parents = rng.sample(ids[-6:], min(len(ids), rng.choice([1, 1, 2, 3])))
        ids.append(repo.create_commit(None, sig, sig, f"c{i}", trees.mutate(repo[parents[0]].tree_id), parents))
    return repo, ids


def _listing_bytes(repo, ids) -> bytes:
    stream = changes_stream(repo.path, ids)
    try:
        assert stream.part(0, len(ids)) is not None
        return os.pread(stream.fd, os.fstat(stream.fd).st_size, 0)
    finally:
        stream.close()


def test_the_listing_read_in_any_pieces_is_the_listing_read_at_once(tmp_path):
    """Cut anywhere (inside a header, a record, a path that looks like a header), the same
    commits are found at the same offsets, and only once their records are complete."""
    repo, ids = _history(tmp_path)
    data = _listing_bytes(repo, ids)
    whole = Sections()
    whole.feed(data)
    assert whole.finish() and [raw for raw, *_ in whole.found] == [c.raw for c in ids]
    rng = random.Random(1)
    for trial in range(200):
        cuts = sorted(rng.sample(range(1, len(data)), rng.randint(1, 60))) if trial else list(range(1, len(data)))
        pieces = Sections()
        for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True):
            known = len(pieces.found)
            pieces.feed(data[start:end])
            for _raw, _first, last, _when in pieces.found[known:]:  # complete: the next header was read
                assert last < end and data[last:last + 1] == b"\x01"
        assert pieces.finish() and pieces.found == whole.found and not pieces.malformed


def test_a_listing_cut_short_is_malformed():
    sections = Sections()
    sections.feed(b"\x01" + b"a" * 40 + b" 1700000000\0\n:100644 100644 ")
    assert not sections.finish() and sections.malformed and sections.found == []


def _fake_git(tmp_path, output: bytes, code: int) -> str:
    """An executable standing in for git: prints `output` whatever it is asked, exits `code`."""
    (tmp_path / "out").write_bytes(output)
    script = tmp_path / "git"
    script.write_text(f"#!/bin/sh\ncat >/dev/null\ncat {tmp_path / 'out'}\nexit {code}\n")
    script.chmod(0o755)
    return str(script)


def _record_offsets(data: bytes) -> list:
    sections = Sections()
    sections.feed(data)
    assert sections.finish()
    return sections.found


def test_git_listing_other_commits_leaves_them_to_the_tree_reader(tmp_path):
    repo, ids = _history(tmp_path / "h", 12)
    order = [ids[0], ids[1], ids[5], ids[2]]  # git "answers" with commit 5 where 2 was asked
    fake = _fake_git(tmp_path, _listing_bytes(repo, order), 0)
    stream = ChangeStream(fake, repo.path, ids[:4])
    try:
        assert stream.part(0, 2) is not None and stream.part(0, 1)[2][0][2] == repo[ids[0]].commit_time
        assert stream.part(2, 3) is None and stream.part(0, 4) is None
        assert stream.sections.malformed
    finally:
        stream.close()


def test_git_failing_half_way_lists_only_what_it_finished(tmp_path):
    """git dies (a damaged pack) after writing part of a commit's records: the commits before
    it are listed, that one and the rest are not, and nobody waits for them."""
    repo, ids = _history(tmp_path / "h", 12)
    data = _listing_bytes(repo, ids)
    found = _record_offsets(data)
    cut = found[6][1] + 5  # inside commit 6's records
    stream = ChangeStream(_fake_git(tmp_path, data[:cut], 128), repo.path, ids)
    try:
        done = threading.Event()
        parts = []
        threading.Thread(target=lambda: (parts.append(stream.part(0, 12)), done.set()), daemon=True).start()
        assert done.wait(30), "a part git never finished was waited for"
        assert parts == [None]
        assert stream.part(0, 6) is not None and stream.part(6, 7) is None
    finally:
        stream.close()


def test_a_history_scan_where_git_fails_finds_what_the_tree_reader_finds(tmp_path, monkeypatch):
    """A pack entry of a tree in the middle of a gated, parallel history is damaged: git's listing
    stops there. Every leak around it is still found, as without git, and the tree is named."""
    r = Repo(tmp_path / "r")
    for i in range(40):
        r.commit({f"f{i % 7}.py": f"K = '{aws_key_id()}'\n" if i % 5 == 0 else f"x = {i}\n" * 30,
                  f"d{i}/a.txt": f"{i}\n"})
    middle = r.repo[r.repo.references["refs/heads/main"].target]
    for _ in range(20):
        middle = middle.parents[0]
    target = str(middle.tree[f"d{19}"].id)
    subprocess.run(["git", "-C", str(r.path), "repack", "-adq"], check=True)
    subprocess.run(["git", "-C", str(r.path), "prune-packed"], check=True)
    (idx,) = (r.path / ".git" / "objects" / "pack").glob("*.idx")
    listing = subprocess.run(["git", "verify-pack", "-v", str(idx)], capture_output=True, text=True).stdout
    size, offset = next(map(int, line.split()[3:5]) for line in listing.splitlines() if line.startswith(target))
    pack = idx.with_suffix(".pack")
    os.chmod(pack, 0o644)
    with open(pack, "r+b") as fh:
        fh.seek(offset + size // 2)
        fh.write(b"\xff" * max(1, size // 2))
    for name, value in [("GATE_FROM", 0), ("PARALLEL_FROM", 0), ("CHUNK", 4)]:
        monkeypatch.setattr(walker, name, value)
    repo = pygit2.Repository(str(r.path))
    listed, real = [], ChangeStream.part  # parts are asked for in this process, for every scanning process
    monkeypatch.setattr(ChangeStream, "part", lambda self, *span: listed.append(real(self, *span)) or listed[-1])
    with_git = repo_scan_unbounded(repo=repo, detector=Detector(rules_load()), workers=2)
    assert any(p is not None for p in listed) and None in listed  # git listed some chunks, not all
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    without = repo_scan_unbounded(repo=pygit2.Repository(str(r.path)), detector=Detector(rules_load()), workers=2)
    assert [vars(x) for x in with_git.leaks] == [vars(x) for x in without.leaks] and len(with_git.leaks) == 8
    assert any(target in e for e in with_git.errors), with_git.errors


@pytest.mark.parametrize(("count", "owners"), [(0, 2), (1, 2), (2, 2), (7, 3), (128, 2), (5, 8)])
def test_every_chunk_is_taken_once_in_contiguous_runs(count, owners):
    shares = Shares(count, owners)
    assert sorted(shares.listing_order()) == list(range(count))
    assert shares.listing_order()[:min(owners, count)] == [run[0] for run in shares.runs if run]
    rng, taken = random.Random(count), {owner: [] for owner in range(owners)}
    while True:
        owner = rng.randrange(owners)
        index = shares.take(owner)
        if index is None:
            assert not shares.left() and all(shares.take(o) is None for o in range(owners))
            break
        taken[owner].append(index)
    assert sorted(i for run in taken.values() for i in run) == list(range(count))
    for run in taken.values():  # a new run starts only where the owner took over another's (a steal)
        breaks = sum(b != a + 1 for a, b in zip(run, run[1:], strict=False))
        assert breaks <= 2 * max(1, count).bit_length()


def test_chunks_given_back_are_taken_again_first():
    shares = Shares(10, 2)
    first, second = shares.take(1), shares.take(1)
    shares.give_back(0, [second, first])
    assert [shares.take(0), shares.take(0), shares.take(0)] == [first, second, 0]
