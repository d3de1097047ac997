"""What the dashboard and the spreadsheet say about a credential's age and rotation."""

from __future__ import annotations


def credential_age_days(cred, *, now) -> int | None:
    """Days since the secret was created (as a probe observed it); None when unknown."""
    if cred.created_at is None:
        return None
    return max(0, (now - cred.created_at).days)


def credential_rotated_days(cred, *, now) -> int | None:
    """Days since the last rotation (or creation when never rotated); None when unknown."""
    since = cred.last_rotated_at or cred.created_at
    if since is None:
        return None
    return max(0, (now - since).days)


def credential_rotation_overdue(cred, *, now) -> bool:
    """True when the credential has a rotation policy and was not rotated within it."""
    days = credential_rotated_days(cred, now=now)
    return bool(cred.rotation_days) and days is not None and days > cred.rotation_days
