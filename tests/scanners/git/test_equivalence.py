"""The optimised walk (merge rule, regex gate, caches, two workers) reports the same leaks (rule,
file, line, commit) as a straightforward reference walk: every commit oldest first, libgit2's diff
against the first parent, the lines a blob adds as a plain set difference, the whole new blob
scanned, and a merge's file skipped only when another parent has that very blob at that path."""

import random

import pygit2
import pytest
from pygit2.enums import DeltaStatus, SortMode

from scanners.git import walker
from scanners.git.detector import Detector, text_decode
from scanners.git.rules import rules_load
from scanners.git.scan import repo_scan_unbounded
from tests.scanners.git.gitrepo import Repo, aws_key_id, github_pat, private_key, stripe_live


def reference_walk(repo: pygit2.Repository, detector) -> set:
    walk = repo.walk(None, SortMode.TOPOLOGICAL | SortMode.REVERSE)
    for name in repo.listall_references():
        walk.push(repo.references[name].peel(pygit2.Commit).id)
    first = {}
    for commit in walk:
        parents = commit.parents
        diff = repo.diff(parents[0].tree, commit.tree) if parents else commit.tree.diff_to_tree(swap=True)
        for delta in diff.deltas:
            if delta.status not in (DeltaStatus.ADDED, DeltaStatus.MODIFIED):
                continue
            path, new_id = delta.new_file.path, delta.new_file.id
            if any(path in p.tree and p.tree[path].id == new_id for p in parents[1:]):
                continue
            new = repo[new_id].data
            old = repo[delta.old_file.id].data.split(b"\n") if delta.status == DeltaStatus.MODIFIED else []
            added = {n for n, line in enumerate(new.split(b"\n"), 1) if line not in set(old)}
            for m in detector.scan(text_decode(new), path=path):
                if m.line in added:
                    first.setdefault((m.rule_id, path, m.secret_fingerprint), (m.line, str(commit.id)))
    return {(rule, path, line, commit) for (rule, path, _fp), (line, commit) in first.items()}


def tricky_history(repo: Repo, rng: random.Random) -> None:
    """Merges (clean and with both sides edited), renames, one blob on many refs, a secret added on
    a branch and merged later, removed then re-added, private keys, and plenty of clean noise."""
    secrets, removed = [aws_key_id, github_pat, stripe_live], []
    files = {f"src/m{i}.py": "".join(f"value_{i}_{j} = {j}\n" for j in range(30)) for i in range(12)}
    base = repo.commit(dict(files))
    shared = f"TOKEN = '{github_pat()}'\n"
    for i in range(40):  # the same blob on many refs
        repo.commit({"shared/conf.py": shared, f"src/m{i % 12}.py": files[f"src/m{i % 12}.py"] + f"x{i} = 1\n"},
                    ref=f"refs/pull/{i}/head", parents=[pygit2.Oid(hex=base)])
    for step in range(330):
        name = rng.choice(sorted(files))
        lines = files[name].splitlines(keepends=True)
        roll = rng.random()
        if roll < 0.05:
            lines.insert(rng.randrange(len(lines) + 1), f"KEY_{step} = '{rng.choice(secrets)()}'\n")
        elif roll < 0.07:
            removed.extend(line for line in lines if "KEY_" in line)
            lines = [line for line in lines if "KEY_" not in line]
        elif roll < 0.08 and removed:  # a removed secret comes back, in this or another file
            lines.insert(rng.randrange(len(lines) + 1), removed.pop(rng.randrange(len(removed))))
        elif roll < 0.1:
            lines.insert(0, private_key())
        else:
            lines[rng.randrange(len(lines))] = f"noise_{step} = {rng.random()}\n"
        files[name] = "".join(lines)
        change = {name: files[name]}
        if step % 37 == 5 and name.startswith("src/"):  # rename
            new = name.replace("src/", "moved/")
            change = {name: None, new: files[name]}
            files[new] = files.pop(name)
        elif step % 29 == 3:  # a branch with a secret, merged later with both sides edited
            head = repo.head()
            side = repo.commit({"side/cfg.py": f"token = '{github_pat()}'\n", name: files[name] + "side = 1\n"},
                               ref=f"refs/heads/side{step}", parents=[pygit2.Oid(hex=head)])
            main = repo.commit(change)
            repo.commit({"side/cfg.py": repo.repo[side].tree["side/cfg.py"].data.decode(),
                         name: files[name] + "side = 1\nmerged = 1\n"},
                        parents=[pygit2.Oid(hex=main), pygit2.Oid(hex=side)])
            files[name] += "side = 1\nmerged = 1\n"
            continue
        repo.commit(change)
    last = sorted(files)[0]
    repo.commit({last: files[last] + "".join(removed[:3])})
    head, name, picked = repo.head(), sorted(files)[1], f"KEY_picked = '{secrets[0]()}'\n"
    for i in range(3):  # one change (same old and new blob) cherry-picked onto three more refs
        repo.commit({name: files[name] + picked}, f"pick {i}", ref=f"refs/pull/picked{i}/head",
                    parents=[pygit2.Oid(hex=head)])


def _detector(parsed: bool) -> Detector:
    """With the parsed detectors off the regex gate is in use (it stays open while they are on)."""
    detector = Detector(rules_load())
    detector.parsed = detector.parsed and parsed
    return detector


@pytest.mark.parametrize(("seed", "parsed"), [(1, True), (2, False)], ids=["parsed-on", "gated"])
def test_optimised_walk_reports_what_the_reference_walk_reports(tmp_path, monkeypatch, seed, parsed):
    repo = Repo(tmp_path / "r")
    tricky_history(repo, random.Random(seed))
    detector = _detector(parsed)
    expected = reference_walk(repo.repo, detector)
    assert len(expected) > 20
    assert any(commit in {str(c.id) for c in repo.repo.walk(repo.repo.head.target) if len(c.parents) > 1}
               for _r, _p, _l, commit in expected) is False  # merges introduced nothing of their own here
    results = {}
    for gate_from, workers in ((0, 1), (0, 2), (10**9, 1)):
        monkeypatch.setattr(walker, "GATE_FROM", gate_from)
        # in this process (the scanning process would not see the patched gate threshold)
        leaks = repo_scan_unbounded(repo=repo.repo, detector=_detector(parsed), workers=workers).leaks
        results[(gate_from, workers)] = {(x.rule_id, x.file, x.line, x.commit) for x in leaks}
    for found in results.values():
        assert found == expected
