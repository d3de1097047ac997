"""Build real git repositories in tests with pygit2, and fake but well-formed secrets generated at
run time (no secret-looking literal lives in this source tree)."""

from __future__ import annotations

import io
import random
import string
from pathlib import Path

import pygit2
from django.core.management import call_command

SIG = pygit2.Signature("Test Dev", "dev@example.com", 1_700_000_000, 0)
_rng = random.Random(1234)
UPPER = string.ascii_uppercase
ALNUM = string.ascii_letters + string.digits


def rand(chars: str, n: int) -> str:
    return "".join(_rng.choice(chars) for _ in range(n))


def aws_key_id(prefix="AKIA") -> str:
    return prefix + rand(UPPER + "234567", 16)


def aws_secret() -> str:
    return rand(ALNUM + "/+", 40)


def github_pat() -> str:
    return "ghp_" + rand(ALNUM, 36)


def stripe_live() -> str:
    return "sk_" + "live_" + rand(ALNUM, 24)


def private_key() -> str:
    body = "\n".join(rand(ALNUM + "+/", 64) for _ in range(6))
    return f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n"


class Repo:
    """A non-bare repository with a helper that commits a dict of files (None deletes)."""

    def __init__(self, path: Path, branch: str = "main"):
        self.path = Path(path)
        self.repo = pygit2.init_repository(str(path), initial_head=branch)
        self.branch = branch
        self._time = 1_700_000_000

    def commit(self, files: dict, message: str = "change", *, ref: str | None = None, parents=None) -> str:
        ref = ref or f"refs/heads/{self.branch}"
        repo = self.repo
        if parents is None:
            parents = [repo.references[ref].target] if ref in repo.references else []
        index = pygit2.Index()
        if parents:
            index.read_tree(repo[parents[0]].tree)
        for name, content in files.items():
            if content is None:
                index.remove(name)
                continue
            data = content.encode() if isinstance(content, str) else content
            index.add(pygit2.IndexEntry(name, repo.create_blob(data), pygit2.enums.FileMode.BLOB))
        tree = index.write_tree(repo)
        self._time += 60
        sig = pygit2.Signature("Test Dev", "dev@example.com", self._time, 0)
        oid = repo.create_commit(None, sig, sig, message, tree, parents)
        if ref in repo.references:
            repo.references[ref].set_target(oid)
        else:
            repo.references.create(ref, oid)
        return str(oid)

    def head(self, ref: str | None = None) -> str:
        return str(self.repo.references[ref or f"refs/heads/{self.branch}"].target)


def scan_repo_run(*args) -> tuple[str, int]:
    """`manage.py scan_repo ARGS` in-process: (stdout, exit code)."""
    out = io.StringIO()
    try:
        call_command("scan_repo", *args, stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return out.getvalue(), code
