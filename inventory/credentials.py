"""Days since (never negative) and the rotation rule: what checks, the dashboard, the spreadsheet and
the digest say about an age and a rotation.
One rule, on plain values, so the export's hot loop can call it without building objects."""

from __future__ import annotations


def days_since(moment, *, now) -> int | None:
    """Whole days from `moment` to `now` (never negative); None when unknown."""
    return None if moment is None else max(0, (now - moment).days)


def rotation_overdue(*, rotation_days, last_rotated_at, created_at, now) -> bool:
    """True when there is a rotation policy and the last rotation (or creation) is older than it."""
    days = days_since(last_rotated_at or created_at, now=now)
    return bool(rotation_days) and days is not None and days > rotation_days


def credential_age_days(cred, *, now) -> int | None:
    """Days since the secret was created (as a probe observed it); None when unknown."""
    return days_since(cred.created_at, now=now)


def credential_rotated_days(cred, *, now) -> int | None:
    """Days since the last rotation (or creation when never rotated); None when unknown."""
    return days_since(cred.last_rotated_at or cred.created_at, now=now)


def credential_rotation_overdue(cred, *, now) -> bool:
    """True when the credential has a rotation policy and was not rotated within it."""
    return rotation_overdue(rotation_days=cred.rotation_days, last_rotated_at=cred.last_rotated_at,
                            created_at=cred.created_at, now=now)
