"""The only two things BotAudit keeps about a secret value: a redacted preview and a keyed
fingerprint. Never the value."""

import hashlib
import hmac

from django.conf import settings

ELLIPSIS = "\u2026"


def redact(value: str) -> str:
    """First 4 characters, an ellipsis and the length: 'AKIA…(20)'."""
    return f"{value[:4]}{ELLIPSIS}({len(value)})"


def secret_fingerprint(value: str | bytes) -> str:
    """HMAC-SHA256 keyed with BOTAUDIT_FINGERPRINT_KEY: recognises the same secret again."""
    data = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
    key = settings.BOTAUDIT_FINGERPRINT_KEY.encode()
    return hmac.new(key, data, hashlib.sha256).hexdigest()
