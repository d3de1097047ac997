"""Reads for the Bot page: the bot (scoped), its credentials' rotation state, open findings grouped
by category, its score history and the findings behind its current score ("why N")."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from inventory.credentials import credential_age_days, credential_rotated_days, credential_rotation_overdue
from inventory.models import Bot
from inventory.selectors import bots_visible_to
from scanners.models import SEVERITY_ORDER, BotScore, Category, Finding

SCORE_HISTORY = 30


def bot_page_bot(*, user) -> QuerySet[Bot]:
    """The bots a user may open, with everything the page lists prefetched."""
    return bots_visible_to(user).select_related("team").prefetch_related(
        "identities", "credentials", "repositories",
        Prefetch("findings", queryset=Finding.objects.filter(status=Finding.Status.OPEN), to_attr="open_findings"),
    )


def bot_page_data(*, bot: Bot, now) -> dict:
    credentials = [
        {"c": c, "age": credential_age_days(c, now=now), "since_rotation": credential_rotated_days(c, now=now),
         "overdue": credential_rotation_overdue(c, now=now)}
        for c in bot.credentials.all()
    ]
    rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    groups: dict[str, list] = {}
    for f in sorted(bot.open_findings, key=lambda f: (rank.get(f.severity, 9), f.check_id, f.subject)):
        groups.setdefault(f.category, []).append(f)
    labels = dict(Category.choices)
    scores = list(BotScore.objects.filter(bot=bot).select_related("audit_run").order_by("-audit_run_id")
                  [:SCORE_HISTORY])
    current = scores[0] if scores else None
    return {
        "credentials": credentials,
        "why": score_why(score=current),
        "why_weights": [(sev, (current.breakdown.get("weights") or {}).get(sev)) for sev in SEVERITY_ORDER
                        if current and (current.breakdown.get("weights") or {}).get(sev) is not None],
        "why_factors": sorted(((current.breakdown.get("category_factors") or {}) if current else {}).items(),
                              key=lambda kv: (-kv[1], kv[0])),
        "finding_groups": [(labels.get(cat, cat), items) for cat, items in groups.items()],
        "current": current,
        "history": [(f"audit #{s.audit_run_id} {s.audit_run.started:%Y-%m-%d}", s.score) for s in reversed(scores)],
    }


def score_why(*, score: BotScore | None) -> list[dict]:
    """The bot page's "why N": each scored finding of the breakdown (heaviest first) with the points
    it added, joined to the finding for its title and link (None when it has since been deleted)."""
    if score is None:
        return []
    items = score.breakdown.get("items", [])
    found = Finding.objects.filter(bot_id=score.bot_id).in_bulk([i["finding"] for i in items if i.get("finding")])
    return [{**item, "f": found.get(item.get("finding"))} for item in items]
