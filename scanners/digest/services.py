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

import smtplib
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from inventory.models import Team

from ..models import Digest
from .render import RenderedDigest, digest_message, digest_render
from .security import security_recipients, security_summary_build
from .selectors import team_digest_build, team_recipients
from .weeks import Week, week_parse

SECURITY_GROUP = "security"
SEND_ERRORS = (smtplib.SMTPException, OSError)  # refused, timed out, rejected: worth a retry
MAX_ERROR_CHARS = 4000


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
            raise ValueError(f"digest group {group!r}: no team with that slug")
        data, recipients = team_digest_build(team=team, week=week, now=now), team_recipients(team)
    else:
        raise ValueError(f"digest group {group!r}: expected 'team:<slug>' or 'security'")
    return DigestPlan(group=group, week=week, team=team, recipients=recipients, rendered=digest_render(data))


def digest_send(*, group: str, week: str, now: datetime | None = None) -> str:
    """Send one group's digest for one week unless it was already sent. Returns the outcome:
    'sent', 'already sent', 'busy' (another worker is sending it) or 'skipped: ...'. SMTP errors
    are recorded on the Digest row and then raised, for the caller to retry."""
    parsed = week_parse(week)
    if Digest.objects.filter(group=group, week=parsed.label, status=Digest.Status.SENT).exists():
        return "already sent"
    plan = digest_prepare(group=group, week=parsed, now=now)
    if not plan.recipients:
        return "skipped: no recipients"
    Digest.objects.get_or_create(group=group, week=parsed.label, defaults={"team": plan.team})
    failure = None
    with transaction.atomic():
        digest = Digest.objects.select_for_update(skip_locked=True).filter(group=group, week=parsed.label).first()
        if digest is None:
            return "busy"
        if digest.status == Digest.Status.SENT:
            return "already sent"
        digest.attempts += 1
        digest.recipients, digest.subject = plan.recipients, plan.rendered.subject
        try:
            digest_message(rendered=plan.rendered, recipients=plan.recipients).send()
        except SEND_ERRORS as exc:
            failure = exc
            digest.status = Digest.Status.FAILED
            line = f"attempt {digest.attempts} at {timezone.now():%Y-%m-%d %H:%M:%S%z}: {type(exc).__name__}: {exc}"
            digest.error = f"{digest.error}{line}\n"[-MAX_ERROR_CHARS:]
        else:
            digest.status, digest.sent_at = Digest.Status.SENT, timezone.now()
        digest.save(update_fields=["attempts", "recipients", "subject", "status", "error", "sent_at"])
    if failure is not None:
        raise failure
    return "sent"
