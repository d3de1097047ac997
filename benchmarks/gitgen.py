"""Generate a synthetic repository quickly with pygit2 (no working tree, no index): N commits over
~200 source files in 20 directories, side branches every 1,000 commits, 300 tags, and a handful
of planted fake secrets. Deterministic for a given seed."""

from __future__ import annotations

import random
import string

import pygit2

WORDS = ("config", "token", "request", "client", "api", "key", "value", "session", "user", "result",
         "handler", "cache", "retry", "timeout", "access", "payload", "secret_name", "bucket", "queue")
TEMPLATES = (
    "def {a}_{b}({c}, {d}=None):",
    "    {a} = {b}.get('{c}', {n})",
    "    if not {a}_{b}:",
    "        raise ValueError('{a} {b} missing for {c}')",
    "    return {a}({b}={c}, {d}={n})",
    "# {a} the {b} before {c}ing the {d}",
    "{A}_{B} = os.environ.get('{A}_{B}', '')",
    "    log.info('%s %s', {a}, {b})",
    "class {A}{B}({C}):",
    "    {a}_{b}: int = {n}",
)
ALNUM = string.ascii_letters + string.digits


def _line(rng) -> str:
    t = rng.choice(TEMPLATES)
    w = [rng.choice(WORDS) for _ in range(4)]
    return t.format(a=w[0], b=w[1], c=w[2], d=w[3], A=w[0].upper(), B=w[1].upper(), C=w[2].title(),
                    n=rng.randint(0, 999))


def _secret(rng, i) -> str:
    kind = i % 4
    if kind == 0:
        return "AWS_KEY = '" + "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16)) + "'"
    if kind == 1:
        return "GITHUB_TOKEN = '" + "ghp_" + "".join(rng.choice(ALNUM) for _ in range(36)) + "'"
    if kind == 2:
        return "stripe_key = '" + "sk_" + "live_" + "".join(rng.choice(ALNUM) for _ in range(24)) + "'"
    return "url = 'postgres://app:" + "".join(rng.choice(ALNUM) for _ in range(16)) + "@db.internal/app'"


def repo_generate(path: str, *, commits: int = 20_000, seed: int = 7, planted: int = 40) -> int:
    """Create the repository at `path`; return the number of planted secrets."""
    rng = random.Random(seed)
    repo = pygit2.init_repository(path, bare=True, initial_head="main")
    dirs = [f"pkg{d:02d}" for d in range(20)]
    files = {d: {f"mod{f:02d}.py": [_line(rng) for _ in range(40)] for f in range(10)} for d in dirs}
    plant_at = set(rng.sample(range(1, commits), planted))
    sig_time = 1_600_000_000
    parent = None
    side = None
    for i in range(commits):
        touched = {(rng.choice(dirs), None) for _ in range(rng.randint(1, 3))}
        subtrees = {}
        for d, _ in touched:
            name = rng.choice(list(files[d]))
            lines = files[d][name]
            lines.extend(_line(rng) for _ in range(rng.randint(2, 8)))
            if i in plant_at:
                lines.append(_secret(rng, i))
                plant_at.discard(i)
            if len(lines) > 400:
                del lines[: len(lines) // 2]
            subtrees.setdefault(d, {})[name] = "\n".join(lines) + "\n"
        root = repo.TreeBuilder(repo[parent].tree) if parent else repo.TreeBuilder()
        for d, changed in subtrees.items():
            prev = repo[parent].tree[d] if parent and d in repo[parent].tree else None
            tb = repo.TreeBuilder(repo[prev.id]) if prev is not None else repo.TreeBuilder()
            if prev is None:
                for name, lines in files[d].items():
                    tb.insert(name, repo.create_blob("\n".join(lines) + "\n"), pygit2.enums.FileMode.BLOB)
            for name, text in changed.items():
                tb.insert(name, repo.create_blob(text), pygit2.enums.FileMode.BLOB)
            root.insert(d, tb.write(), pygit2.enums.FileMode.TREE)
        sig_time += 600
        sig = pygit2.Signature("Gen", "gen@example.com", sig_time, 0)
        parents = [parent] if parent else []
        if side is not None and i % 1000 == 500:
            parents.append(side)  # merge the side branch back
            side = None
        parent = repo.create_commit(None, sig, sig, f"commit {i}", root.write(), parents)
        if i % 1000 == 0:
            side_commit = repo.create_commit(None, sig, sig, f"side {i}", root.write(), [parent])
            repo.references.create(f"refs/heads/feature/{i}", side_commit, force=True)
            side = side_commit
        if i % 67 == 0 and i:
            repo.references.create(f"refs/tags/v{i}", parent, force=True)
    repo.references.create("refs/heads/main", parent, force=True)
    return planted
