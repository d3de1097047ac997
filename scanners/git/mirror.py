"""Open the repository behind a path or clone URL. URLs are mirrored (bare, every ref) into a cache
directory under var/ and fetched each run, with a token from the environment (https) or the ssh
agent, passed only through the credential callback: the cache's git config holds the URL without
credentials (a URL with userinfo is refused, see inventory.locations). Transports that run commands
(ext::, fd::) and option-like locations are refused, and every local form (plain or relative path,
file://, file:, symlinks, ..) is resolved and checked against BOTAUDIT_GIT_ROOTS by one check."""

from __future__ import annotations

import hashlib
import os
import re
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pygit2

from inventory.locations import SCP_LIKE, Location, LocationError, location_parse, text_redact


class RepositoryError(Exception):
    """The repository cannot be opened, cloned or fetched; the message names it (redacted)."""

    def __init__(self, message):
        super().__init__(text_redact(str(message)))


def location_resolve(*, location: str, base_dir: Path, roots=()) -> Location:
    """Parse `location`; a local one must resolve (symlinks, ..) under one of `roots` when set."""
    try:
        parsed = location_parse(location)
    except LocationError as exc:
        raise RepositoryError(str(exc)) from None
    if parsed.local_path is not None and roots:
        path = parsed.local_path if parsed.local_path.is_absolute() else Path(base_dir) / parsed.local_path
        resolved = path.resolve()
        if not any(resolved == root or root in resolved.parents for root in (Path(r).resolve() for r in roots)):
            raise RepositoryError(f"{location}: outside BOTAUDIT_GIT_ROOTS ({', '.join(str(r) for r in roots)})")
    return parsed


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
    """Clone `url` (checked by location_resolve) as a bare mirror under `cache_dir` (first time) or
    fetch every ref into it."""
    location_resolve(location=url, base_dir=Path(cache_dir))
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
    parsed = location_resolve(location=location, base_dir=base_dir, roots=roots)
    if parsed.is_url:
        return mirror_fetch(url=location, cache_dir=cache_dir)
    path = parsed.local_path if parsed.local_path.is_absolute() else Path(base_dir) / parsed.local_path
    if not path.exists():
        raise RepositoryError(f"{location}: no such repository ({path} does not exist)")
    try:  # NO_SEARCH: a plain directory inside the roots must not open a repository above it
        return pygit2.Repository(str(path), flags=pygit2.enums.RepositoryOpenFlag.NO_SEARCH)
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
