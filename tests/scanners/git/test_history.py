"""The labelled corpus: real repositories built in the test, scanned through the whole history."""

import os

import pygit2
import pytest

from scanners.git import walker
from scanners.git.detector import Detector
from scanners.git.rules import rules_load
from scanners.git.scan import leak_fingerprint, repo_scan, repo_scan_unbounded
from tests.scanners.git.gitrepo import Repo, aws_key_id, github_pat, private_key, stripe_live


@pytest.fixture
def repo(tmp_path):
    return Repo(tmp_path / "corpus")


def scan(repo, **kw):
    return repo_scan(repo=repo.repo, detector=Detector(rules_load()), **kw)


def by_rule(result):
    return {(leak.rule_id, leak.file): leak for leak in result.leaks}


def test_added_modified_removed(repo):
    key = aws_key_id()
    first = repo.commit({"app.py": "import os\n", "README": "hello\n"})
    second = repo.commit({"app.py": f"import os\nKEY = '{key}'\n"})
    repo.commit({"app.py": "import os\nKEY = os.environ['KEY']\n"})
    result = scan(repo)
    (leak,) = result.leaks
    assert (leak.rule_id, leak.file, leak.line, leak.commit) == ("aws-access-token", "app.py", 2, second)
    assert leak.still_at_head is False and leak.redacted == "AKIA\u2026(20)"
    assert leak.commit != first and leak.commit_date.startswith("2023-")
    assert result.stats.commits == 3


def test_still_at_head_and_line_in_modified_file(repo):
    repo.commit({"cfg.yml": "a: 1\nb: 2\nc: 3\n"})
    pat = github_pat()
    intro = repo.commit({"cfg.yml": f"a: 1\nb: 2\ntoken: {pat}\nc: 3\n"})
    repo.commit({"cfg.yml": f"a: 10\nb: 2\ntoken: {pat}\nc: 3\nd: 4\n"})  # later edits elsewhere
    (leak,) = scan(repo).leaks
    assert (leak.line, leak.commit, leak.still_at_head) == (3, intro, True)


def test_renamed_file(repo):
    token = stripe_live()
    intro = repo.commit({"old/settings.py": f"STRIPE = '{token}'\n"})
    moved = repo.commit({"old/settings.py": None, "new/settings.py": f"STRIPE = '{token}'\n"})
    leaks = by_rule(scan(repo))
    old, new = leaks[("stripe-access-token", "old/settings.py")], leaks[("stripe-access-token", "new/settings.py")]
    assert (old.commit, old.still_at_head) == (intro, False)
    assert (new.commit, new.still_at_head) == (moved, True)
    assert old.secret_fingerprint == new.secret_fingerprint


def test_side_branch_and_merge_commits(repo):
    base = repo.commit({"a.txt": "one\n"})
    side_pat, merge_pat = github_pat(), github_pat()
    side = repo.commit({"side.cfg": f"token: {side_pat}\n"}, ref="refs/heads/feature/x", parents=[base])
    unmerged = repo.commit({"wip.cfg": f"key: {aws_key_id()}\n"}, ref="refs/heads/spike", parents=[base])
    main2 = repo.commit({"a.txt": "one\ntwo\n"})
    # the merge brings side.cfg in and also adds a secret of its own (conflict resolution)
    merge = repo.commit({"side.cfg": f"token: {side_pat}\n", "merge.cfg": f"token: {merge_pat}\n"},
                        parents=[pygit2.Oid(hex=main2), pygit2.Oid(hex=side)])
    leaks = by_rule(scan(repo))
    assert leaks[("github-pat", "side.cfg")].commit == side  # attributed to the side commit, not the merge
    assert leaks[("github-pat", "side.cfg")].still_at_head is True
    assert leaks[("github-pat", "merge.cfg")].commit == merge
    assert leaks[("aws-access-token", "wip.cfg")].commit == unmerged  # only on a side branch
    assert leaks[("aws-access-token", "wip.cfg")].still_at_head is False
    assert len(leaks) == 3
    only_main = by_rule(scan(repo, branches=["main"]))
    assert ("aws-access-token", "wip.cfg") not in only_main


@pytest.mark.parametrize("gate_from", [None, 0], ids=["libgit2-sizes", "git-listed-sizes"])
def test_binary_huge_lfs_submodule_are_skipped(repo, settings, monkeypatch, gate_from):
    """Small histories ask libgit2 for each blob's size; gated ones (300+ commits) take git's list
    of the blobs over the limit. Both skip the same blobs."""
    settings.BOTAUDIT_GIT_MAX_BLOB_BYTES = 4096
    if gate_from is not None:
        monkeypatch.setattr(walker, "GATE_FROM", gate_from)
        monkeypatch.setattr(walker.BlobScanner, "_read", _no_size_asked(walker.BlobScanner._read))
    key = aws_key_id()
    repo.commit({
        "blob.bin": b"\x00\x01binary " + key.encode() + b"\n",
        "huge.txt": f"KEY = '{key}'\n" + "x = 1\n" * 2000,
        "model.bin": f"version https://git-lfs.github.com/spec/v1\noid sha256:{key}\nsize 12\n",
        "ok.txt": "nothing here\n",
    })
    idx = pygit2.Index()
    idx.read_tree(repo.repo.references["refs/heads/main"].peel(pygit2.Commit).tree)
    idx.add(pygit2.IndexEntry("vendor/lib", pygit2.Oid(hex="1" * 40), pygit2.enums.FileMode.COMMIT))
    tree = idx.write_tree(repo.repo)
    head = repo.repo.references["refs/heads/main"].target
    sig = pygit2.Signature("t", "t@example.com")
    repo.repo.references["refs/heads/main"].set_target(repo.repo.create_commit(None, sig, sig, "sub", tree, [head]))
    result = scan(repo) if gate_from is None else repo_scan_unbounded(repo=repo.repo, detector=Detector(rules_load()))
    assert result.leaks == [] and result.errors == []
    assert result.stats.skipped == {"binary": 1, "huge": 1, "lfs": 1, "submodule": 1}


def _no_size_asked(read):
    def checked(self, oid):
        assert self.large is not None, "git's list of large blobs was not used"
        return read(self, oid)
    return checked


def test_non_utf8_and_long_lines(repo):
    key, late = aws_key_id(), aws_key_id()
    repo.commit({
        "latin1.txt": "caf\xe9 = 1\n".encode("latin-1") + f"KEY = '{key}' # \xe9t\xe9\n".encode("latin-1"),
        "minified.js": "var a=1;" * 1000 + f"k='{late}'\n",  # beyond the line cap
    })
    leaks = by_rule(scan(repo))
    assert leaks[("aws-access-token", "latin1.txt")].line == 2
    assert ("aws-access-token", "minified.js") not in leaks


def test_identical_blobs_scanned_once(repo):
    content = f"KEY = '{aws_key_id()}'\n"
    repo.commit({"a/one.py": content, "b/two.py": content, "c/three.py": content})
    result = scan(repo)
    assert result.stats.blobs == 1 and len(result.leaks) == 3


def test_corrupted_object_is_reported_not_a_crash(repo):
    repo.commit({"ok.py": f"KEY = '{aws_key_id()}'\n"})
    bad = repo.repo.create_blob(b"a blob that will be corrupted\n")
    repo.commit({"bad.py": b"a blob that will be corrupted\n"})
    path = os.path.join(repo.repo.path, "objects", str(bad)[:2], str(bad)[2:])
    os.chmod(path, 0o644)
    with open(path, "wb") as fh:
        fh.write(b"\x78\x9cgarbage")
    result = scan(repo)
    assert any(str(bad) in e and "bad.py" in e for e in result.errors), result.errors
    assert [leak.file for leak in result.leaks] == ["ok.py"]  # the rest of the history still scanned


def test_since_scans_only_newer_commits(repo):
    repo.commit({"a.py": f"K = '{aws_key_id()}'\n"})
    mark = repo.commit({"b.py": "x = 1\n"})
    new = repo.commit({"c.py": f"T = '{github_pat()}'\n"})
    result = scan(repo, since=mark)
    assert [(leak.file, leak.commit) for leak in result.leaks] == [("c.py", new)]
    assert result.stats.commits == 1
    with pytest.raises(ValueError, match="unknown revision 'nope'"):
        scan(repo, since="nope")


def test_baseline_survives_rebase(repo):
    key = aws_key_id()
    repo.commit({"a.py": f"K = '{key}'\n", "b.py": f"T = '{github_pat()}'\n"})
    first = scan(repo)
    ignored = {leak_fingerprint(leak) for leak in first.leaks if leak.rule_id == "aws-access-token"}
    # rewrite history: a new root commit with the same content (as after a squash)
    rewritten = Repo(repo.path.parent / "rewritten")
    rewritten.commit({"README": "x\n"})
    rewritten.commit({"a.py": f"K = '{key}'\n", "b.py": "nothing\n"})
    assert scan(rewritten, baseline=ignored).leaks == []
    assert [leak.rule_id for leak in scan(repo, baseline=ignored).leaks] == ["github-pat"]


def test_private_key_block_in_history(repo):
    intro = repo.commit({"deploy/id_rsa": private_key()})
    repo.commit({"deploy/id_rsa": None})
    (leak,) = scan(repo).leaks
    assert (leak.rule_id, leak.commit, leak.line, leak.still_at_head) == ("private-key", intro, 1, False)


def test_private_key_added_to_an_existing_file(repo):
    repo.commit({"conf/app.pem.txt": "header\nfooter\n"})
    intro = repo.commit({"conf/app.pem.txt": "header\n" + private_key() + "footer\n"})
    (leak,) = scan(repo).leaks
    assert (leak.rule_id, leak.commit, leak.line) == ("private-key", intro, 2)


def test_two_worker_processes_find_what_one_finds(repo):
    expected = set()
    for i in range(400):
        files = {f"src/m{i % 7}.py": f"# version {i}\nx = {i}\n" * (1 + i % 3)}
        if i % 50 == 7:
            files[f"src/m{i % 7}.py"] += f"KEY_{i} = '{aws_key_id()}'\n"
        commit = repo.commit(files)
        if i % 50 == 7:
            expected.add((f"src/m{i % 7}.py", commit))
    one, two = scan(repo, workers=1), scan(repo, workers=2)
    assert {(leak.file, leak.commit) for leak in two.leaks} == expected
    assert [vars(x) for x in one.leaks] == [vars(x) for x in two.leaks]
    assert two.stats.commits == one.stats.commits == 400


def test_thousands_of_refs_walked_once(repo):
    repo.commit({"a.py": f"K = '{aws_key_id()}'\n"})
    for i in range(60):
        repo.commit({"b.py": f"x = {i}\n"})
    head = repo.repo.references["refs/heads/main"].target
    for i in range(3000):  # a mirror with many refs: tags and branches all pointing into history
        repo.repo.references.create(f"refs/tags/t{i}", head)
    result = scan(repo)
    assert result.stats.commits == 61 and len(result.leaks) == 1 and len(result.tips) == 3001


def test_threads_when_the_process_may_not_fork(repo, monkeypatch):
    from scanners.git import walker

    for i in range(320):
        repo.commit({f"s/{i % 5}.py": f"v = {i}\n" + (f"K = '{aws_key_id()}'\n" if i % 40 == 3 else "")})
    procs = scan(repo, workers=2)
    monkeypatch.setattr(walker, "_can_fork", lambda: False)
    threads = scan(repo, workers=2)
    assert len(threads.leaks) == 8 and [vars(x) for x in threads.leaks] == [vars(x) for x in procs.leaks]


def test_corrupted_commit_object_stops_the_walk_with_an_error(repo):
    repo.commit({"a.py": f"K = '{aws_key_id()}'\n"})
    middle = repo.commit({"b.py": "x = 1\n"})
    repo.commit({"c.py": "y = 2\n"})
    path = os.path.join(repo.repo.path, "objects", middle[:2], middle[2:])
    os.chmod(path, 0o644)
    with open(path, "wb") as fh:
        fh.write(b"\x78\x9cgarbage")  # (some other corruptions make libgit2 1.9 spin: see the report)
    result = repo_scan(repo=pygit2.Repository(str(repo.path)), detector=Detector(rules_load()))
    assert any(middle in e for e in result.errors), result.errors
    assert [leak.file for leak in result.leaks] == []  # a.py is behind the broken commit
    assert result.stats.commits == 1  # the readable newest commit was still scanned


def test_pull_request_merge_refs_add_nothing_the_branch_did_not(repo):
    """GitHub's refs/pull/N/merge: a merge whose files come unchanged from the PR head is not
    where they were introduced; only what differs from every parent is the merge's own."""
    base = repo.commit({"a.txt": "one\n", "cfg.py": "x = 1\n"})
    pat = github_pat()
    head = repo.commit({"cfg.py": f"x = 1\nT = '{pat}'\n"}, ref="refs/pull/1/head", parents=[base])
    main2 = repo.commit({"a.txt": "one\ntwo\n"})
    own = aws_key_id()
    merge = repo.commit({"cfg.py": f"x = 1\nT = '{pat}'\n", "a.txt": f"one\ntwo\nK = '{own}'\n"},
                        ref="refs/pull/1/merge", parents=[pygit2.Oid(hex=main2), pygit2.Oid(hex=head)])
    result = scan(repo)
    leaks = by_rule(result)
    assert (leaks[("github-pat", "cfg.py")].commit, leaks[("github-pat", "cfg.py")].line) == (head, 2)
    assert leaks[("aws-access-token", "a.txt")].commit == merge  # both sides changed a.txt: the merge's own line
    assert len(leaks) == 2
    # the merge alone (its PR head already scanned, e.g. an incremental run) reports only its own secret
    later = scan(repo, hide=[head, main2])
    assert [(leak.rule_id, leak.commit) for leak in later.leaks] == [("aws-access-token", merge)]
