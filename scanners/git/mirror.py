"""Open the repository behind a path or clone URL. URLs are mirrored (bare, every ref) into a cache
directory under var/ and fetched each run, with a token from the environment (https) or the ssh
agent; nothing is stored. Transports that run commands (ext::, fd::) are refused, and so are local
paths outside BOTAUDIT_GIT_ROOTS when that setting is set."""

from __future__ import annotations

import hashlib
import os
import re
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pygit2

ALLOWED_SCHEMES = {"https", "http", "ssh", "git", "file"}
SCP_LIKE = re.compile(r"^(?P<user>[\w.-]+)@(?P<host>[\w.-]+):(?P<path>[^:].*)$")
TRANSPORT_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")


class RepositoryError(Exception):
    """The repository cannot be opened, cloned or fetched; the message names it."""


def is_url(location: str) -> bool:
    return "://" in location or bool(SCP_LIKE.match(location)) or bool(TRANSPORT_PREFIX.match(location))


def url_check(url: str) -> None:
    if TRANSPORT_PREFIX.match(url):
        raise RepositoryError(f"{url}: transport {url.split('::')[0]}:: is refused (it can run commands)")
    if SCP_LIKE.match(url):
        return
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise RepositoryError(f"{url}: scheme {scheme!r} is not allowed (use {', '.join(sorted(ALLOWED_SCHEMES))})")


def path_check(path: Path, roots) -> None:
    if not roots:
        return
    resolved = path.resolve()
    for root in roots:
        root = Path(root).resolve()
        if resolved == root or root in resolved.parents:
            return
    raise RepositoryError(f"{path}: outside BOTAUDIT_GIT_ROOTS ({', '.join(str(r) for r in roots)})")


def _callbacks(url: str) -> pygit2.RemoteCallbacks:
    token = os.environ.get("BOTAUDIT_GIT_TOKEN", "")
    user = os.environ.get("BOTAUDIT_GIT_USER", "x-access-token")
    scp = SCP_LIKE.match(url)
    ssh_user = scp.group("user") if scp else (urlsplit(url).username or "git")

    class Callbacks(pygit2.RemoteCallbacks):
        def credentials(self, _url, username_from_url, allowed_types):
            if allowed_types & pygit2.enums.CredentialType.SSH_KEY:
                return pygit2.KeypairFromAgent(username_from_url or ssh_user)
            if allowed_types & pygit2.enums.CredentialType.USERPASS_PLAINTEXT and token:
                return pygit2.UserPass(user, token)
            raise RepositoryError(f"{url}: needs credentials (set BOTAUDIT_GIT_TOKEN or use an ssh agent)")

    return Callbacks()


def mirror_fetch(*, url: str, cache_dir: Path) -> pygit2.Repository:
    """Clone `url` as a bare mirror under `cache_dir` (first time) or fetch every ref into it."""
    url_check(url)
    path = Path(cache_dir) / hashlib.sha256(url.encode()).hexdigest()[:24]
    try:
        if (path / "HEAD").exists():
            repo = pygit2.Repository(str(path))
        else:
            path.mkdir(parents=True, exist_ok=True)
            repo = pygit2.init_repository(str(path), bare=True)
            repo.remotes.create("origin", url, "+refs/*:refs/*")
        callbacks = _callbacks(url)
        remote = repo.remotes["origin"]
        remote.fetch(callbacks=callbacks, prune=pygit2.enums.FetchPrune.PRUNE)
        for head in remote.list_heads(callbacks=callbacks):
            if head.name == "HEAD" and head.symref_target:
                repo.set_head(head.symref_target)
        return repo
    except pygit2.GitError as exc:
        raise RepositoryError(f"{url}: fetch failed: {exc}") from None


def repository_open(*, location: str, base_dir: Path, cache_dir: Path, roots=()) -> pygit2.Repository:
    """A pygit2 Repository for a local path (relative to `base_dir`) or a clone URL."""
    if is_url(location):
        return mirror_fetch(url=location, cache_dir=cache_dir)
    path = Path(location)
    if not path.is_absolute():
        path = Path(base_dir) / path
    path_check(path, roots)
    if not path.exists():
        raise RepositoryError(f"{location}: no such repository ({path} does not exist)")
    try:
        return pygit2.Repository(str(path))
    except pygit2.GitError as exc:
        raise RepositoryError(f"{location}: not a git repository: {exc}") from None


LOOSE_NAME = re.compile(r"[0-9a-f]{38}")


def loose_damaged(repo: pygit2.Repository) -> dict[bytes, str]:
    """{raw id: why} for every loose object that does not inflate completely to its declared size.
    libgit2 1.9 never returns from reading a truncated loose object (it spins), so they are found
    here first, with zlib, and the scan never hands them to libgit2. Packed objects are checked by
    libgit2 itself (a damaged pack entry fails to inflate or to apply as a delta)."""
    damaged = {}
    root = Path(repo.path) / "objects"
    for folder in root.glob("[0-9a-f][0-9a-f]"):
        for file in folder.iterdir():
            if LOOSE_NAME.fullmatch(file.name):
                why = _loose_problem(file)
                if why:
                    damaged[bytes.fromhex(folder.name + file.name)] = why
    return damaged


def _loose_problem(file: Path) -> str | None:
    try:
        inflater = zlib.decompressobj()
        data = inflater.decompress(file.read_bytes())
    except (OSError, zlib.error) as exc:
        return f"loose object does not inflate: {exc}"
    if not inflater.eof:
        return "loose object is truncated (incomplete zlib stream)"
    header, nul, body = data.partition(b"\0")
    kind, _sp, size = header.partition(b" ")
    if not nul or kind not in (b"commit", b"tree", b"blob", b"tag") or not size.isdigit() or int(size) != len(body):
        return "loose object has a malformed header or a wrong size"
    return None
