"""Risk score per bot per audit run: severity weights over its active findings, capped at 100,
with a breakdown that explains every point."""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings

from inventory.models import Bot

from .models import AuditRun, BotScore, Finding

SCORED_STATUSES = (Finding.Status.OPEN, Finding.Status.ACKNOWLEDGED)
MAX_SCORE = 100


def risk_band(score: int | None) -> str:
    if score is None:
        return "unknown"
    if score >= 80:
        return "critical"
    if score >= 50:
        return "high"
    if score >= 20:
        return "medium"
    if score > 0:
        return "low"
    return "none"


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
    for f in Finding.objects.filter(status__in=SCORED_STATUSES, bot__isnull=False).only(
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
