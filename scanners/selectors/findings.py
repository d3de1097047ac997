"""Reads of the findings store, scoped to what a user may see where a user is given."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from inventory.models import Team
from inventory.selectors import user_is_auditor

from ..models import SEVERITY_ORDER, Category, Finding


def findings_visible_to(user) -> QuerySet[Finding]:
    """Auditors see every finding (also those tied to no bot); a viewer those of their teams' bots."""
    if user_is_auditor(user):
        return Finding.objects.all()
    if not user.is_authenticated:
        return Finding.objects.none()
    return Finding.objects.filter(bot__team__members=user)


def findings_list(*, status: str | None = None, bot: str | None = None, team: Team | None = None,
                  severity: str | None = None, check_id: str | None = None) -> QuerySet[Finding]:
    qs = Finding.objects.select_related("bot", "bot__team")
    if status:
        qs = qs.filter(status=status)
    if bot:
        qs = qs.filter(bot__name=bot)
    if team:
        qs = qs.filter(bot__team=team)
    if severity:
        qs = qs.filter(severity=severity)
    if check_id:
        qs = qs.filter(check_id=check_id)
    return qs.order_by("bot__name", "check_id", "subject")


def severity_counts(findings: QuerySet[Finding]) -> dict[str, int]:
    """{severity: count}, every severity present, most severe first; counted in the database."""
    counts = dict.fromkeys(SEVERITY_ORDER, 0)
    for row in findings.order_by().values("severity").annotate(n=Count("pk")):
        counts[row["severity"]] = row["n"]
    return counts


def findings_open_counts(*, user) -> dict:
    """{"severity": {sev: n}, "category": {cat: n}, "total": n} over open findings."""
    rows = (findings_visible_to(user).filter(status=Finding.Status.OPEN).order_by()
            .values("severity", "category").annotate(n=Count("pk")))
    by_sev = dict.fromkeys(SEVERITY_ORDER, 0)
    by_cat = {c.value: 0 for c in Category}
    for row in rows:
        by_sev[row["severity"]] = by_sev.get(row["severity"], 0) + row["n"]
        by_cat[row["category"]] = by_cat.get(row["category"], 0) + row["n"]
    return {"severity": by_sev, "category": by_cat, "total": sum(by_sev.values())}


def findings_overdue_per_team(*, user, now=None) -> list[dict]:
    """[{"team", "slug", "overdue"}] over the teams the user may see (every one, 0 included), most
    overdue first: one query (after the role check)."""
    from inventory.selectors import teams_visible_to

    from ..sla import overdue_q

    teams = teams_visible_to(user).annotate(
        overdue=Count("bots__findings", filter=overdue_q(now=now, prefix="bots__findings__")))
    rows = [{"team": t.name, "slug": t.slug, "overdue": t.overdue} for t in teams]
    return sorted(rows, key=lambda r: (-r["overdue"], r["team"]))


def findings_weekly(*, user, weeks: int = 12, now=None) -> list[dict]:
    """Findings opened (first seen) and resolved per week for the last `weeks` weeks, oldest first."""
    now = now or timezone.now()
    this_week = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    start = this_week - timedelta(weeks=weeks - 1)
    visible = findings_visible_to(user).order_by()
    opened = _per_week(visible.filter(first_seen__gte=start), "first_seen")
    resolved = _per_week(visible.filter(resolved_at__gte=start, status=Finding.Status.RESOLVED), "resolved_at")
    out = []
    for i in range(weeks):
        week = (start + timedelta(weeks=i)).date()
        out.append({"week": week, "opened": opened.get(week, 0), "resolved": resolved.get(week, 0)})
    return out


def _per_week(qs, field) -> dict:
    rows = qs.annotate(week=TruncWeek(field)).values("week").annotate(n=Count("pk"))
    return {timezone.localtime(r["week"]).date() if timezone.is_aware(r["week"]) else r["week"].date(): r["n"]
            for r in rows}
