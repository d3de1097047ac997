"""API token services: create (the plain token is returned once and never stored), authenticate,
revoke. A token is `bat_<prefix>_<secret>`: the prefix finds the row, SHA-256 of the whole token
must match its digest (compared in constant time). 256 random bits need no slow hash."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from inventory.models import AuditLogEntry

from .models import ApiToken

DEFAULT_EXPIRY = timedelta(days=90)
LAST_USED_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per token
_TOKEN = re.compile(r"^bat_([a-z0-9]{8})_[A-Za-z0-9_-]{43}$")
_DURATION = re.compile(r"^(\d{1,5})([dhm])$")


class TokenError(ValueError):
    """A token request that cannot be honoured; the message says why."""


def expiry_parse(value: str | None) -> timedelta | None:
    """'90d', '12h', '30m' -> timedelta; 'never' -> None; None -> the default (90 days)."""
    if value is None:
        return DEFAULT_EXPIRY
    if value == "never":
        return None
    match = _DURATION.match(value.strip())
    if not match or int(match.group(1)) == 0:
        raise TokenError(f"expiry {value!r}: use a number of days, hours or minutes (90d, 12h, 30m) or 'never'")
    amount, unit = int(match.group(1)), match.group(2)
    units = {"d": "days", "h": "hours", "m": "minutes"}
    return timedelta(**{units[unit]: amount})


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str = "", expires_in: timedelta | None = DEFAULT_EXPIRY,
                     read_only: bool = False, actor=None) -> tuple[ApiToken, str]:
    """A new token for `user`: (row, plain token). Show the plain token once; it is not kept."""
    while True:
        prefix = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    plain = f"bat_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=prefix, digest=_digest(plain), read_only=read_only,
        expires_at=timezone.now() + expires_in if expires_in else None,
    )
    AuditLogEntry.objects.create(user=actor or user, action="api_token.create", target=f"token {prefix}",
                                 detail={"for": user.get_username(), "read_only": read_only,
                                         "expires_at": token.expires_at.isoformat() if token.expires_at else None})
    return token, plain


def api_token_authenticate(plain: str) -> ApiToken | None:
    """The active token this string is, or None (malformed, unknown, wrong secret, expired, revoked)."""
    match = _TOKEN.match(plain or "")
    if not match:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=match.group(1)).first()
    if token is None or not hmac.compare_digest(token.digest, _digest(plain)) or not token.active:
        return None
    if not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def api_token_revoke(*, token: ApiToken, actor) -> bool:
    """Revoke the token (idempotent); True when it was active."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    AuditLogEntry.objects.create(user=actor, action="api_token.revoke", target=f"token {token.prefix}",
                                 detail={"for": token.user.get_username()})
    return True
