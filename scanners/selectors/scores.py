"""Reads of risk scores. "Latest score" has one definition: the score of the bot's newest audit run
(highest audit run id; scores are written once per run, when it finishes), optionally among the
scores created in a time window."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from ..models import BotScore


def bot_scores_latest_first(**window) -> QuerySet[BotScore]:
    """The outer query's bot's (`OuterRef("pk")`) scores, latest first; `window` filters them
    (e.g. `created__lt=...`)."""
    return BotScore.objects.filter(bot_id=OuterRef("pk"), **window).order_by("-audit_run_id")


def bot_score_latest(field: str = "score", **window) -> Subquery:
    """A subquery for one field of the outer bot's latest score (None when it has none)."""
    return Subquery(bot_scores_latest_first(**window).values(field)[:1])
