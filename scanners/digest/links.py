"""Absolute links in emails, built from BOTAUDIT_BASE_URL. One place to change if page URLs move."""

from urllib.parse import quote

from django.conf import settings


def _base() -> str:
    return settings.BOTAUDIT_BASE_URL.rstrip("/")


def link_finding(finding_id: int) -> str:
    return f"{_base()}/findings/{int(finding_id)}/"


def link_bot(slug: str) -> str:
    return f"{_base()}/bots/{quote(slug)}/"


def link_findings(*, team: str | None = None) -> str:
    return f"{_base()}/findings/" + (f"?team={quote(team)}" if team else "")


def link_digest(*, team_slug: str | None = None, week: str) -> str:
    path = f"/digest/{quote(team_slug)}/" if team_slug else "/digest/"
    return f"{_base()}{path}?week={quote(week)}"


def link_runs() -> str:
    return f"{_base()}/runs/"
