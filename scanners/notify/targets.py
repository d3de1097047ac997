"""Where webhooks go: per team from the manifest's `notify:`, and security's from settings. The URL is
read from the environment variable named there, only when sending, and checked against SSRF: https
only, and every address the host resolves to must be public (no loopback, private, link-local,
multicast, reserved). BOTAUDIT_WEBHOOK_ALLOW_INSECURE=1 lifts both rules (tests, local receivers)."""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from inventory.models import Team

from ..models import SEVERITY_ORDER

SECURITY_TARGET = "security"
FORMATS = ("json", "slack")
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,99}$")


class WebhookRefused(Exception):
    """A webhook that must not be sent to (not configured, http://, a non-public address). Never
    names the URL: a webhook URL is itself a credential (Slack's carry their token in the path)."""


@dataclass(frozen=True)
class Target:
    name: str  # 'team:<slug>' or 'security'
    team: Team | None
    url_env: str
    min_severity: str
    format: str


@dataclass(frozen=True)
class Resolved:
    scheme: str
    host: str
    port: int
    path: str  # path and query, sent as the request target
    address: str  # the checked address the connection goes to (no second lookup)


def team_target(team: Team) -> Target | None:
    notify = team.notify or {}
    if not notify.get("webhook_url_env"):
        return None
    return Target(name=f"team:{team.slug}", team=team, url_env=notify["webhook_url_env"],
                  min_severity=notify.get("min_severity", "high"), format=notify.get("format", "json"))


def security_target() -> Target | None:
    if not settings.BOTAUDIT_SECURITY_WEBHOOK_URL_ENV:
        return None
    return Target(name=SECURITY_TARGET, team=None, url_env=settings.BOTAUDIT_SECURITY_WEBHOOK_URL_ENV,
                  min_severity=settings.BOTAUDIT_SECURITY_WEBHOOK_MIN_SEVERITY,
                  format=settings.BOTAUDIT_SECURITY_WEBHOOK_FORMAT)


def targets_list() -> list[Target]:
    """Every configured webhook: teams' (by slug), then security's."""
    targets = [t for t in map(team_target, Team.objects.exclude(notify={}).order_by("slug")) if t]
    return targets + [t for t in [security_target()] if t]


def target_get(name: str) -> Target | None:
    if name == SECURITY_TARGET:
        return security_target()
    team = Team.objects.filter(slug=name.removeprefix("team:")).first() if name.startswith("team:") else None
    return team_target(team) if team else None


def severity_at_least(severity: str, minimum: str) -> bool:
    order = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    return order.get(severity, len(order)) <= order.get(minimum, 0)


def _address_refusal(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return "a non-public address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "a non-public address"
    return None


def webhook_resolve(*, url_env: str) -> Resolved:
    """The webhook URL from the environment, checked; WebhookRefused says why not (never the URL)."""
    insecure = settings.BOTAUDIT_WEBHOOK_ALLOW_INSECURE
    url = os.environ.get(url_env, "").strip()
    if not url:
        raise WebhookRefused(f"the environment variable {url_env} is not set")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookRefused(f"{url_env} does not hold a valid URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookRefused(f"{url_env} is not an https URL")
    if parts.scheme == "http" and not insecure:
        raise WebhookRefused(f"{url_env} is an http:// URL: only https is allowed "
                             "(BOTAUDIT_WEBHOOK_ALLOW_INSECURE=1 for local receivers)")
    if parts.username or parts.password:
        raise WebhookRefused(f"{url_env} carries credentials in its userinfo: not allowed")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookRefused(f"the host of {url_env} does not resolve ({type(exc).__name__})") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise WebhookRefused(f"the host of {url_env} does not resolve")
    if not insecure:
        for address in addresses:  # every one: a host may resolve to a public and a private address
            if problem := _address_refusal(address):
                raise WebhookRefused(f"the host of {url_env} resolves to {problem} "
                                     "(BOTAUDIT_WEBHOOK_ALLOW_INSECURE=1 for local receivers)")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Resolved(scheme=parts.scheme, host=parts.hostname, port=port, path=path, address=addresses[0])
