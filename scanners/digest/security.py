"""Pure reads for the fleet security summary: totals and their week-over-week change, the riskiest
bots, unowned secrets and identities, active leaks, and the teams with most overdue rotations."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from inventory.models import Bot, Credential, Team

from ..models import SEVERITY_ORDER, Category, Finding
from ..scoring import risk_band
from ..selectors.findings import severity_counts
from ..selectors.scores import bot_score_latest
from .asof import digest_moment, digest_moment_text, findings_active_at, findings_open_at
from .links import link_bot, link_digest, link_findings
from .selectors import (
    credentials_overdue,
    finding_rows,
    findings_ordered,
    open_counts,
    probes_failed,
)
from .triage import triage_section
from .weeks import Week

RISKIEST = 10
TEAMS_OVERDUE = 5


def _active_at(findings, moment: datetime) -> dict[str, int]:
    return severity_counts(findings_active_at(findings, moment))


def riskiest_bots(*, week: Week, moment: datetime, limit: int = RISKIEST) -> list[dict]:
    bots = (Bot.objects.filter(status=Bot.Status.ACTIVE).select_related("team")
            .annotate(score=bot_score_latest(created__lt=moment), before=bot_score_latest(created__lt=week.start))
            .filter(score__gt=0).order_by("-score", "name")[:limit])
    return [{"bot": b.name, "bot_link": link_bot(b.slug), "team": b.team.name, "score": b.score,
             "band": risk_band(b.score), "delta": None if b.before is None else b.score - b.before}
            for b in bots]


def security_recipients() -> list[str]:
    return sorted({e.strip().lower() for e in settings.BOTAUDIT_DIGEST_SECURITY_RECIPIENTS if e.strip()})


def security_summary_build(*, week: Week, now: datetime | None = None) -> dict:
    """Every number as of the end of the week (asof.py), like the team digests."""
    now = now or timezone.now()
    moment = digest_moment(week=week, now=now)
    findings = findings_ordered(Finding.objects.all())
    active = findings_active_at(findings, moment)
    at_end = _active_at(findings, moment)
    at_start = _active_at(findings, week.start)
    overdue = credentials_overdue(now=moment)
    per_team = Counter(c["team"] for c in overdue)
    counts = open_counts(findings_open_at(findings, moment))
    return {
        "kind": "security",
        "week": week.label, "week_start": week.start, "week_last_day": (week.end - timedelta(days=1)).date(),
        "generated_at": now, "as_of_at": moment, "as_of": digest_moment_text(moment, week=week),
        "counts": counts,
        "open_total": sum(counts.values()),
        "totals": [{"severity": s, "start": at_start[s], "end": at_end[s], "change": at_end[s] - at_start[s]}
                   for s in SEVERITY_ORDER],
        "fleet": {
            "teams": Team.objects.count(),
            "bots": Bot.objects.filter(status=Bot.Status.ACTIVE).count(),
            "credentials": Credential.objects.filter(bot__status=Bot.Status.ACTIVE).count(),
            "opened": findings.filter(first_seen__gte=week.start, first_seen__lt=week.end).count(),
            "resolved": findings.filter(status=Finding.Status.RESOLVED, resolved_at__gte=week.start,
                                        resolved_at__lt=week.end).count(),
            "overdue": len(overdue),
        },
        "riskiest": riskiest_bots(week=week, moment=moment),
        "unowned": finding_rows(active.filter(Q(bot__isnull=True) | Q(category=Category.INVENTORY_GAP)), now=moment),
        "leaks": finding_rows(active.filter(category=Category.LEAK), now=moment),
        "teams_overdue": [{"team": t, "overdue": n}
                          for t, n in sorted(per_team.items(), key=lambda i: (-i[1], i[0]))[:TEAMS_OVERDUE]],
        "failed_probes": probes_failed(week=week),
        "triage": triage_section(week=week, now=now),
        "links": {"findings": link_findings(), "preview": link_digest(week=week.label)},
    }
