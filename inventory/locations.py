"""Repository locations (clone URLs and local paths) and the one rule for showing any text that may
hold a URL.

    location = location_parse("https://github.com/acme/bot.git")   # LocationError says why not
    location.local_path                                             # Path for local forms, else None
    text_redact("fetch https://u:p@host/x failed")                  # 'fetch https://***@host/x failed'

Credentials never live in a location: userinfo is refused in every URL (a user name alone is
allowed for ssh, where it is not a secret); the git probe takes its token from the environment.
Transports that run commands (`ext::`, `fd::`, any `<name>::`), a leading `-` (it would be read as
an option) and control characters are refused too. Every error message is redacted itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .text import control_problem

ALLOWED_SCHEMES = ("file", "git", "http", "https", "ssh")
TRANSPORT_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")
SCP_LIKE = re.compile(r"^(?P<user>[^@/]+)@(?P<host>[^@/:]+):(?P<path>.*)$")
# userinfo of a URL (scheme://user:pass@), and user:pass@ in scp-like or bare forms
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s@'\"<>]*@")
_BARE_USERINFO = re.compile(r"(?<![\w/.%+-])[\w.%+-]+:(?!//)[^\s@'\"<>]+@")
REDACTED = "***"


class LocationError(ValueError):
    """A location that cannot be used; the message never holds the credentials it refused."""

    def __init__(self, message):
        super().__init__(text_redact(message))


@dataclass(frozen=True)
class Location:
    text: str
    scheme: str  # "" for a local path, "scp" for user@host:path, else the URL scheme
    local_path: Path | None  # the path of a local repository (plain path, file:// or file:), else None

    @property
    def is_url(self) -> bool:
        """Fetched into the mirror cache (file:// too: it is cloned like a remote)."""
        return self.scheme not in ("", "file:")


def text_redact(text: str) -> str:
    """Any text that may hold a URL, with every userinfo replaced by ***: safe to store or show."""
    if not text:
        return text
    text = _URL_USERINFO.sub(_url_userinfo_masked, str(text))
    return _BARE_USERINFO.sub(f"{REDACTED}@", text)


def _url_userinfo_masked(match: re.Match) -> str:
    userinfo = match.group(0)[len(match.group(1)):-1]
    if set(userinfo) <= {"*", ":"}:  # already masked (by us or e.g. as ':***'): keep it as it is
        return match.group(0)
    return f"{match.group(1)}{REDACTED}@"


def location_parse(text: str) -> Location:
    """A clone URL or a local path, validated. Raises LocationError naming the problem."""
    if not isinstance(text, str) or not text.strip():
        raise LocationError("empty repository location")
    if problem := control_problem(text):
        raise LocationError(f"{text!r}: {problem} (control characters are not allowed in a location)")
    if text.startswith("-"):
        raise LocationError(f"{text}: must not start with '-' (it would be read as an option)")
    if TRANSPORT_PREFIX.match(text):
        raise LocationError(f"{text}: transport {text.split('::')[0]}:: is refused (it can run commands)")
    if "://" in text:
        return _url_parse(text)
    if text.lower().startswith("file:"):
        return Location(text, "file:", Path(unquote(text[5:])))
    scp = SCP_LIKE.match(text)
    if scp and "/" not in text.split(":", 1)[0]:
        return _scp_parse(text, scp)
    if _BARE_USERINFO.search(text):
        raise LocationError(f"{text}: looks like credentials (a password before an @); BotAudit takes them from the "
                            "environment")
    return Location(text, "", Path(text))


def _url_parse(text: str) -> Location:
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - validates the port
    except ValueError as exc:
        raise LocationError(f"{text}: not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise LocationError(f"{text}: scheme {scheme!r} is not allowed (use {', '.join(ALLOWED_SCHEMES)})")
    if parts.password is not None or (parts.username is not None and scheme != "ssh"):
        raise LocationError(f"{text}: credentials in the URL are refused (userinfo); BotAudit takes them from "
                            "the environment (BOTAUDIT_GIT_TOKEN, the ssh agent)")
    if (parts.hostname or "").startswith("-"):
        raise LocationError(f"{text}: host must not start with '-' (it would be read as an option)")
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise LocationError(f"{text}: file:// URLs must name a local path (no host)")
        return Location(text, scheme, Path(unquote(parts.path)))
    if not parts.hostname:
        raise LocationError(f"{text}: no host")
    return Location(text, scheme, None)


def _scp_parse(text: str, match: re.Match) -> Location:
    user = match.group("user")
    if ":" in user:
        raise LocationError(f"{text}: credentials in the location are refused (a password before the @); "
                            "BotAudit takes them from the environment (the ssh agent)")
    if match.group("host").startswith("-") or user.startswith("-"):
        raise LocationError(f"{text}: host must not start with '-' (it would be read as an option)")
    return Location(text, "scp", None)


def location_check(text: str) -> str | None:
    """Why `text` is not a usable repository location, or None (for validators and the manifest)."""
    try:
        location_parse(text)
    except LocationError as exc:
        return str(exc)
    return None


def userinfo_problem(text: str) -> str | None:
    """Why a URL-bearing setting (a connector's url, endpoint_url ...) is refused, or None."""
    if text_redact(text) != text:
        return "credentials in a URL are refused (userinfo); BotAudit takes them from the environment"
    return None
