"""Every hyperscan database the scanner uses, compiled in one place and kept on disk: compiling the
default rules' gates takes ~0.6 s of CPU at the start of every large scan, loading them ~0.1 ms.

A database file is only ever loaded when it carries an HMAC made with this installation's
fingerprint key (BOTAUDIT_FINGERPRINT_KEY, never written anywhere by this module): hyperscan's
deserializer trusts its input, so a file someone else wrote, or one damaged on disk, must never
reach it. Such a file is ignored and compiled again; a cache directory that cannot be written only
costs the compile. The file name is a hash of the hyperscan version, the expressions and their
flags, so a changed rule set or library never meets an old database."""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
from pathlib import Path

try:
    import hyperscan
except ImportError:  # pragma: no cover - platforms without a hyperscan wheel
    hyperscan = None

MAX_FILE = 64 << 20  # bytes: a database file larger than this is not read (the default rules': ~0.3 MB)
_LABEL = b"botaudit hyperscan database cache v1"


def _place() -> tuple[Path, bytes] | None:
    """(cache directory, HMAC key), or None when the settings name none (the database is compiled)."""
    from django.conf import settings

    if not settings.configured:  # never set the settings up as a side effect (the scanning process
        return None  # configures them from its job, engine.py)
    folder = getattr(settings, "BOTAUDIT_GIT_CACHE_DIR", "")
    key = getattr(settings, "BOTAUDIT_FINGERPRINT_KEY", "")
    if not folder or not key:
        return None
    return Path(folder) / "hyperscan", hmac.new(key.encode(), _LABEL, hashlib.sha256).digest()


def _name(expressions, flags) -> str:
    digest = hashlib.sha256(f"{hyperscan.__version__}\0{len(expressions)}".encode())
    for expression, flag in zip(expressions, flags, strict=True):
        digest.update(len(expression).to_bytes(8, "big") + expression + flag.to_bytes(8, "big"))
    return f"{digest.hexdigest()}.hsdb"


def _load(path: Path, key: bytes):
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE + 1)
    except OSError:
        return None
    mac, blob = data[:32], data[32:]
    if len(data) > MAX_FILE or not hmac.compare_digest(mac, hmac.new(key, path.name.encode() + blob,
                                                                      hashlib.sha256).digest()):
        return None
    try:
        db = hyperscan.loadb(blob, hyperscan.HS_MODE_BLOCK)
        db.scratch = hyperscan.Scratch(db)
    except hyperscan.error:
        return None
    return db


def _store(path: Path, key: bytes, db) -> None:
    blob = hyperscan.dumpb(db)
    mac = hmac.new(key, path.name.encode() + blob, hashlib.sha256).digest()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(mac + blob)
            os.replace(temp, path)  # whole or not at all, also with scans writing side by side
        except OSError:
            os.unlink(temp)
            raise
    except OSError:
        return


def compiled(expressions: list[bytes], flags: list[int]):
    """A block-mode database of `expressions` (ids 0, 1, ... in order) with their `flags`, from the
    cache when a verified one is there, else compiled (and stored). Raises hyperscan.error as
    `Database.compile` does."""
    place = _place()
    path = None
    if place is not None:
        path = place[0] / _name(expressions, flags)
        db = _load(path, place[1])
        if db is not None:
            return db
    db = hyperscan.Database()
    db.compile(expressions=expressions, ids=list(range(len(expressions))), elements=len(expressions), flags=flags)
    if path is not None:
        _store(path, place[1], db)
    return db
