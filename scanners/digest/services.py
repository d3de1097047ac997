"""Sending a digest exactly once per (recipient group, ISO week).

The Digest row is the claim: it is created under a unique (group, week) constraint, then locked
with SELECT ... FOR UPDATE SKIP LOCKED for the whole SMTP conversation. A second worker racing on
the same row skips it ("busy"); a retried task or a second beat tick finds it `sent` and sends
nothing. A worker that dies mid-send releases the lock with its connection and leaves the row
unsent, so the redelivered task sends it. The one window left is a crash after the SMTP server
accepted the message and before the commit: that message would be sent again (SMTP offers no
way to make that window atomic).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from inventory.locations import text_redact
from inventory.models import Team

from ..models import Digest
from .render import RenderedDigest, digest_message, digest_render
from .security import security_recipients, security_summary_build
from .selectors import team_digest_build, team_recipients
from .weeks import Week, week_parse

SECURITY_GROUP = "security"
MAX_ERROR_CHARS = 4000


class DigestGroupError(ValueError):
    """An unknown recipient group: the caller's mistake, nothing is recorded."""


@dataclass(frozen=True)
class DigestPlan:
    group: str
    week: Week
    team: Team | None
    recipients: list[str]
    rendered: RenderedDigest


def team_group(team: Team) -> str:
    return f"team:{team.slug}"


def digest_groups_list() -> list[str]:
    """Every recipient group: one per team, then the security summary."""
    return [f"team:{slug}" for slug in Team.objects.order_by("slug").values_list("slug", flat=True)] + [
        SECURITY_GROUP
    ]


def digest_prepare(*, group: str, week: Week, now: datetime | None = None) -> DigestPlan:
    """Build and render one group's digest without sending or recording anything."""
    if group == SECURITY_GROUP:
        data, team, recipients = security_summary_build(week=week, now=now), None, security_recipients()
    elif group.startswith("team:"):
        team = Team.objects.filter(slug=group.removeprefix("team:")).first()
        if team is None:
            raise DigestGroupError(f"digest group {group!r}: no team with that slug")
        data, recipients = team_digest_build(team=team, week=week, now=now), team_recipients(team)
    else:
        raise DigestGroupError(f"digest group {group!r}: expected 'team:<slug>' or 'security'")
    return DigestPlan(group=group, week=week, team=team, recipients=recipients, rendered=digest_render(data))


def digest_send(*, group: str, week: str, now: datetime | None = None) -> str:
    """Send one group's digest for one week unless it was already sent. Returns the outcome:
    'sent', 'already sent', 'busy' (another worker is sending it) or 'skipped: ...'. Any failure
    of this group (SMTP, a bad address, a rendering error) is recorded on its Digest row and then
    raised, for the caller to go on with the other groups and retry this one later."""
    parsed = week_parse(week)
    if Digest.objects.filter(group=group, week=parsed.label, status=Digest.Status.SENT).exists():
        return "already sent"
    try:
        plan = digest_prepare(group=group, week=parsed, now=now)
    except DigestGroupError:
        raise
    except Exception as exc:
        with transaction.atomic():
            digest = _claim(group=group, week=parsed.label, team=_team_of(group))
            if digest is not None and digest.status != Digest.Status.SENT:
                _failure_record(digest, exc)
        raise
    if not plan.recipients:
        return "skipped: no recipients"
    failure = None
    with transaction.atomic():
        digest = _claim(group=group, week=parsed.label, team=plan.team)
        if digest is None:
            return "busy"
        if digest.status == Digest.Status.SENT:
            return "already sent"
        digest.recipients, digest.subject = plan.recipients, plan.rendered.subject
        try:
            digest_message(rendered=plan.rendered, recipients=plan.recipients).send()
        except Exception as exc:
            failure = exc
            _failure_record(digest, exc)
        else:
            digest.attempts += 1
            digest.status, digest.sent_at = Digest.Status.SENT, timezone.now()
            digest.save(update_fields=["attempts", "recipients", "subject", "status", "error", "sent_at"])
    if failure is not None:
        raise failure
    return "sent"


def _team_of(group: str) -> Team | None:
    return Team.objects.filter(slug=group.removeprefix("team:")).first() if group.startswith("team:") else None


def _claim(*, group: str, week: str, team: Team | None) -> Digest | None:
    """The group's Digest row, locked for this transaction; None when another worker holds it."""
    Digest.objects.get_or_create(group=group, week=week, defaults={"team": team})
    return Digest.objects.select_for_update(skip_locked=True).filter(group=group, week=week).first()


def failure_text(exc: Exception) -> str:
    """A send failure on one line, URLs redacted: for the Digest row and the command's output."""
    return " ".join(text_redact(f"{type(exc).__name__}: {exc}").split())


def _failure_record(digest: Digest, exc: Exception) -> None:
    digest.attempts += 1
    digest.status = Digest.Status.FAILED
    line = f"attempt {digest.attempts} at {timezone.now():%Y-%m-%d %H:%M:%S%z}: {failure_text(exc)}"
    digest.error = f"{digest.error}{line}\n"[-MAX_ERROR_CHARS:]
    digest.save(update_fields=["attempts", "recipients", "subject", "status", "error", "sent_at"])
