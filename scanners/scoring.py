"""Risk score per bot per audit run: severity weights over its active findings, capped at 100,
with a breakdown that explains every point."""

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


def score_findings(findings) -> tuple[int, dict]:
    """Pure: (score, breakdown) from an iterable of findings (anything with check_id, severity,
    subject, pk)."""
    weights = settings.BOTAUDIT_SEVERITY_WEIGHTS
    items, by_severity = [], defaultdict(lambda: {"count": 0, "points": 0})
    for f in findings:
        points = weights.get(f.severity, 0)
        items.append({"finding": f.pk, "check_id": f.check_id, "severity": f.severity,
                      "subject": f.subject, "points": points})
        by_severity[f.severity]["count"] += 1
        by_severity[f.severity]["points"] += points
    raw = sum(i["points"] for i in items)
    items.sort(key=lambda i: (-i["points"], i["check_id"], i["subject"]))
    breakdown = {
        "weights": weights,
        "by_severity": dict(by_severity),
        "raw": raw,
        "capped_at": MAX_SCORE if raw > MAX_SCORE else None,
        "items": items,
    }
    return min(raw, MAX_SCORE), breakdown


def bot_scores_compute(*, audit_run: AuditRun) -> int:
    """Write one BotScore per active bot for this audit run (idempotent). Returns bots scored."""
    per_bot = defaultdict(list)
    for f in Finding.objects.filter(status__in=ACTIVE_STATUSES, bot__isnull=False).only(
        "pk", "bot_id", "check_id", "severity", "subject"
    ):
        per_bot[f.bot_id].append(f)
    scores = []
    for bot_id in Bot.objects.filter(status=Bot.Status.ACTIVE).values_list("pk", flat=True):
        score, breakdown = score_findings(per_bot.get(bot_id, []))
        scores.append(BotScore(bot_id=bot_id, audit_run=audit_run, score=score, breakdown=breakdown))
    BotScore.objects.filter(audit_run=audit_run).delete()
    BotScore.objects.bulk_create(scores, batch_size=1000)
    return len(scores)
