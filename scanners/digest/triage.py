"""The digest's triage section (team and security alike): findings past their SLA (per team for
security), risk acceptances that expired in the week and those still in force, and bots whose owner
left. Plain dicts, counted at the digest's point in time (the end of its week, or now if sooner)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.utils import timezone

from inventory.models import Bot, Team

from ..models import Finding
from ..sla import overdue_q
from .links import link_bot, link_finding
from .weeks import Week

OWNER_CHECK = "inventory.bot.owner_departed"
MAX_ROWS = 50


def _scoped(team: Team | None):
    qs = Finding.objects.select_related("bot", "bot__team")
    return qs.filter(bot__team=team) if team is not None else qs


def triage_section(*, week: Week, team: Team | None = None, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    at = min(week.end, now)
    findings = _scoped(team)
    overdue = findings.filter(overdue_q(now=at))
    per_team = Counter(overdue.filter(bot__isnull=False).values_list("bot__team__name", flat=True))
    first_day, last_day = timezone.localtime(week.start).date(), timezone.localtime(week.end).date()
    # last_day is the next Monday. Expired in the week: reopened on one of its days (the day after
    # `accepted_until`), and not accepted again since
    expired = (findings.filter(accepted_until__gte=first_day - timedelta(days=1),
                               accepted_until__lt=last_day - timedelta(days=1))
               .exclude(status=Finding.Status.ACCEPTED).order_by("accepted_until", "pk"))
    accepted = findings.filter(status=Finding.Status.ACCEPTED).order_by("accepted_until", "pk")
    departed = (findings.filter(check_id=OWNER_CHECK, status__in=(Finding.Status.OPEN, Finding.Status.ACKNOWLEDGED),
                                bot__status=Bot.Status.ACTIVE).order_by("bot__name"))
    return {
        "sla_overdue": overdue.count(),
        "sla_overdue_per_team": [{"team": name, "overdue": n}
                                 for name, n in sorted(per_team.items(), key=lambda i: (-i[1], i[0]))],
        "acceptance_expired": [_accept_row(f) for f in expired[:MAX_ROWS]],
        "accepted": [_accept_row(f) for f in accepted[:MAX_ROWS]],
        "accepted_count": accepted.count(),
        "owners_departed": [{"bot": f.bot.name, "bot_link": link_bot(f.bot.slug), "team": f.bot.team.name,
                             "owner": (f.evidence or {}).get("owner", f.bot.owner_email),
                             "reason": (f.evidence or {}).get("reason", "")} for f in departed[:MAX_ROWS]],
    }


def _accept_row(f: Finding) -> dict:
    return {"title": f.title, "severity": f.severity, "bot": f.bot.name if f.bot else None,
            "until": f.accepted_until, "status": f.status, "link": link_finding(f.pk)}
