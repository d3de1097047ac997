"""Reads for the Fleet page and the audit spreadsheet: bots annotated with what the dashboard shows.

Risk score = the bot's latest BotScore; last audited = the finish time of that score's audit run;
open findings are counted by severity. Every annotation is a correlated subquery, so a page of
N bots costs one query whatever N is.
"""

from __future__ import annotations

from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from inventory.models import Bot, Credential
from inventory.selectors import bots_visible_to
from scanners.models import SEVERITY_ORDER, BotScore, Category, Finding

OPEN = Finding.Status.OPEN
SEVERITIES = [s for s in SEVERITY_ORDER if s != "info"]
# Risk bands by score, as scanners.scoring.risk_band draws them: (band, min, max inclusive).
RISK_BANDS = [("critical", 80, 100), ("high", 50, 79), ("medium", 20, 49), ("low", 1, 19), ("none", 0, 0)]


def _count(qs) -> Coalesce:
    counted = qs.order_by().values("bot_id").annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def open_findings_of(*, category: str | None = None, severity: str | None = None) -> QuerySet[Finding]:
    qs = Finding.objects.filter(bot_id=OuterRef("pk"), status=OPEN)
    if category:
        qs = qs.filter(category=category)
    if severity:
        qs = qs.filter(severity=severity)
    return qs


def latest_score_of() -> QuerySet[BotScore]:
    return BotScore.objects.filter(bot_id=OuterRef("pk")).order_by("-audit_run_id")


def bots_annotate(qs: QuerySet[Bot]) -> QuerySet[Bot]:
    """Add credentials, open_<severity>, risk_score and last_audited to a bot queryset."""
    return qs.select_related("team").annotate(
        credential_count=_count(Credential.objects.filter(bot_id=OuterRef("pk"))),
        **{f"open_{s}": _count(open_findings_of(severity=s)) for s in SEVERITIES},
        risk_score=Subquery(latest_score_of().values("score")[:1]),
        last_audited=Subquery(latest_score_of().values("audit_run__finished")[:1]),
    )


def fleet_rows(*, user) -> QuerySet[Bot]:
    """The bots a user may see, annotated for the Fleet table."""
    return bots_annotate(bots_visible_to(user)).order_by("name")


def bots_with_open(qs: QuerySet[Bot], *, category: str | None = None, severity: str | None = None,
                   present: bool = True) -> QuerySet[Bot]:
    exists = Exists(open_findings_of(category=category, severity=severity))
    return qs.filter(exists if present else ~exists)


LEAK = Category.LEAK
STALE = Category.STALE_CREDENTIAL
