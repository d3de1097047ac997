"""One point in time per digest: every number in a digest is as of the end of its week (or now, for
a week not over yet), and the digest says so. Findings are counted as they stood then: seen by
then, not resolved by then (false positives never count), acknowledged if triaged so by then."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from ..models import SEVERITY_ORDER, Finding
from ..selectors.scores import bot_score_latest
from .links import link_bot
from .weeks import Week


def digest_moment(*, week: Week, now: datetime) -> datetime:
    """The instant a digest reports on: the end of its week, or now while the week is still running."""
    return min(week.end, now)


def digest_moment_text(moment: datetime, *, week: Week) -> str:
    """'Sunday 2026-11-29 23:59 UTC' for the end of a week (its last minute), else the moment itself."""
    shown = moment - timedelta(minutes=1) if moment >= week.end else moment
    local = shown.astimezone(ZoneInfo(settings.TIME_ZONE))
    return f"{local:%A %Y-%m-%d %H:%M} {local.tzname()}"


def findings_active_at(findings: QuerySet[Finding], moment: datetime) -> QuerySet[Finding]:
    """Findings that existed at `moment` and were not resolved by then (false positives excluded)."""
    return (findings.filter(first_seen__lt=moment).exclude(status=Finding.Status.FALSE_POSITIVE)
            .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=moment)))


def _acknowledged_by(moment: datetime) -> Q:
    return Q(status=Finding.Status.ACKNOWLEDGED) & (Q(status_changed_at__isnull=True)
                                                   | Q(status_changed_at__lt=moment))


def findings_open_at(findings: QuerySet[Finding], moment: datetime) -> QuerySet[Finding]:
    """Active at `moment` and not acknowledged by then."""
    return findings_active_at(findings, moment).exclude(_acknowledged_by(moment))


def findings_acknowledged_at(findings: QuerySet[Finding], moment: datetime) -> QuerySet[Finding]:
    return findings_active_at(findings, moment).filter(_acknowledged_by(moment))


def bots_standing(bots, *, moment: datetime) -> list[dict]:
    """Every bot given (name order) with its latest score before `moment` and its findings open at
    `moment` by severity: the team digest's table of its whole fleet."""
    rows = list(bots.annotate(score=bot_score_latest(created__lt=moment)).order_by("name"))
    counts: dict[int, dict[str, int]] = {b.pk: dict.fromkeys(SEVERITY_ORDER, 0) for b in rows}
    opened = findings_open_at(Finding.objects.filter(bot__in=[b.pk for b in rows]), moment)
    for item in opened.values("bot_id", "severity").annotate(n=Count("pk")):
        counts[item["bot_id"]][item["severity"]] = item["n"]
    return [{"bot": b.name, "bot_link": link_bot(b.slug), "score": b.score, "open": counts[b.pk],
             "open_total": sum(counts[b.pk].values())} for b in rows]
