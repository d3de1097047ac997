"""Database locks that serialise writers of one scope across processes and machines.

PostgreSQL: a transaction-level advisory lock (`pg_advisory_xact_lock`), released at commit or
rollback. SQLite: every transaction is `IMMEDIATE` (settings), so the database already lets one
writer in at a time; the lock is the transaction itself.
"""

from __future__ import annotations

import hashlib

from django.db import connection, transaction


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `name` (PostgreSQL advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def scope_lock(name: str) -> None:
    """Wait for the lock named `name`, held until the surrounding transaction ends."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"scope_lock({name!r}) must be called inside transaction.atomic()")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(name)])
