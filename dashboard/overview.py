"""The Overview page's reads: risk bands, riskiest bots, open findings, weekly trend, last audit."""

from __future__ import annotations

from collections import Counter

from dashboard.fleet import fleet_rows
from inventory.models import Bot
from inventory.selectors import bots_visible_to
from scanners.scoring import RISK_BAND_NAMES, risk_band
from scanners.selectors.findings import findings_open_counts, findings_overdue_per_team, findings_weekly
from scanners.selectors.runs import audit_run_latest
from scanners.selectors.scores import bot_score_latest


def overview_data(*, user) -> dict:
    scored = bots_visible_to(user).filter(status=Bot.Status.ACTIVE).annotate(
        risk_score=bot_score_latest("score"))
    band_counts = Counter(risk_band(score) for score in scored.values_list("risk_score", flat=True))
    total = sum(band_counts.values())
    riskiest = list(fleet_rows(user=user).filter(status=Bot.Status.ACTIVE, risk_score__gt=0)
                    .order_by("-risk_score", "name")[:10])
    for bot in riskiest:
        bot.band = risk_band(bot.risk_score)
    last_run = audit_run_latest()
    return {
        "bot_total": total,
        "bands": [(band, band_counts.get(band, 0)) for band in RISK_BAND_NAMES],
        "riskiest": riskiest,
        "open": findings_open_counts(user=user),
        "overdue_teams": findings_overdue_per_team(user=user),
        "weekly": findings_weekly(user=user),
        "last_run": last_run,
        "probe_runs": list(last_run.probe_runs.all()) if last_run else [],
    }
