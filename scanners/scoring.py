"""Risk score per bot per audit run: every active finding takes a share of the headroom left below
100 (diminishing, never zero), with a breakdown that explains every point. README "Risk score"."""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings

from inventory.models import Bot

from .models import ACTIVE_STATUSES, AuditRun, BotScore, Finding

MAX_SCORE = 100


# Risk bands, the one definition used by scoring, the fleet filter, the overview chart and the
# digest: (band, lowest score, highest score), most severe first. A bot without a score is "unknown".
RISK_BANDS = (("critical", 80, 100), ("high", 50, 79), ("medium", 20, 49), ("low", 1, 19), ("none", 0, 0))
UNKNOWN_BAND = "unknown"
RISK_BAND_NAMES = (*(band for band, _, _ in RISK_BANDS), UNKNOWN_BAND)


def risk_band(score: int | None) -> str:
    if score is None:
        return UNKNOWN_BAND
    return next((band for band, low, high in RISK_BANDS if low <= score <= high), "critical" if score > 100 else "none")


def risk_band_range(band: str) -> tuple[int, int]:
    """(lowest, highest) score of a band; ValueError naming the band and the known ones."""
    for name, low, high in RISK_BANDS:
        if name == band:
            return low, high
    raise ValueError(f"unknown risk band {band!r} (known: {', '.join(RISK_BAND_NAMES)})")


SCORE_FORMULA = "score = round(100 × (1 − Π(1 − w))), w = severity weight × category factor / 100"


def finding_weight(*, severity: str, category: str) -> float:
    """A finding's weight w in [0, 1): its severity's weight (percent) times its category's factor."""
    weights, factors = settings.BOTAUDIT_SEVERITY_WEIGHTS, settings.BOTAUDIT_CATEGORY_FACTORS
    return weights.get(severity, 0) * factors.get(category, 1.0) / 100


def score_findings(findings) -> tuple[int, dict]:
    """Pure: (score, breakdown) from an iterable of findings (anything with pk, check_id, severity,
    category, subject).

    Each finding removes a share w of the risk headroom still left: raw = 100 × (1 − Π(1 − w)), so
    the score stays below 100, every further finding adds something (never nothing, unless it is
    info) and each adds less than it would alone. The breakdown lists the findings heaviest first,
    each with the points it added at its turn (w × headroom left); the points sum to `raw`, and the
    score is `raw` rounded."""
    items, left = [], 1.0
    for f in findings:
        weight = finding_weight(severity=f.severity, category=f.category)
        items.append({"finding": f.pk, "check_id": f.check_id, "severity": f.severity, "category": f.category,
                      "subject": f.subject, "weight": round(weight * 100, 2)})
    items.sort(key=lambda i: (-i["weight"], i["check_id"], i["subject"]))
    by_severity = defaultdict(lambda: {"count": 0, "points": 0.0})
    for item in items:
        added = 100 * left * item["weight"] / 100
        left *= 1 - item["weight"] / 100
        item["points"] = round(added, 4)
        by_severity[item["severity"]]["count"] += 1
        by_severity[item["severity"]]["points"] += added
    raw = 100 * (1 - left)
    breakdown = {
        "formula": SCORE_FORMULA,
        "weights": dict(settings.BOTAUDIT_SEVERITY_WEIGHTS),
        "category_factors": dict(settings.BOTAUDIT_CATEGORY_FACTORS),
        "by_severity": {sev: {"count": row["count"], "points": round(row["points"], 2)}
                        for sev, row in by_severity.items()},
        "raw": round(raw, 2),
        "items": items,
    }
    return min(int(raw + 0.5), MAX_SCORE), breakdown


def bot_scores_compute(*, audit_run: AuditRun) -> int:
    """Write one BotScore per active bot for this audit run (idempotent). Returns bots scored."""
    per_bot = defaultdict(list)
    for f in Finding.objects.filter(status__in=ACTIVE_STATUSES, bot__isnull=False).only(
        "pk", "bot_id", "check_id", "severity", "category", "subject"
    ):
        per_bot[f.bot_id].append(f)
    scores = []
    for bot_id in Bot.objects.filter(status=Bot.Status.ACTIVE).values_list("pk", flat=True):
        score, breakdown = score_findings(per_bot.get(bot_id, []))
        scores.append(BotScore(bot_id=bot_id, audit_run=audit_run, score=score, breakdown=breakdown))
    BotScore.objects.filter(audit_run=audit_run).delete()
    BotScore.objects.bulk_create(scores, batch_size=1000)
    return len(scores)
