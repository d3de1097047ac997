"""Reads for the dashboard's findings, charts and runs, scoped to what a user may see."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from inventory.selectors import user_is_auditor

from .models import SEVERITY_ORDER, AuditRun, Category, Finding

FINDING_COLUMNS = ["check_id", "severity", "category", "status", "team", "bot", "subject", "title",
                   "first_seen", "last_seen", "resolved_at", "status_reason", "fingerprint"]


def findings_visible_to(user) -> QuerySet[Finding]:
    """Auditors see every finding (also those tied to no bot); a viewer those of their teams' bots."""
    if user_is_auditor(user):
        return Finding.objects.all()
    if not user.is_authenticated:
        return Finding.objects.none()
    return Finding.objects.filter(bot__team__members=user)


def finding_row(f: Finding) -> list:
    bot = f.bot
    return [f.check_id, f.severity, f.category, f.status, bot.team.name if bot else "", bot.name if bot else "",
            f.subject, f.title, f.first_seen.isoformat(), f.last_seen.isoformat(),
            f.resolved_at.isoformat() if f.resolved_at else "", f.status_reason, f.fingerprint]


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


def audit_runs_list() -> QuerySet[AuditRun]:
    return AuditRun.objects.prefetch_related("probe_runs__connector").order_by("-started")


def audit_run_latest() -> AuditRun | None:
    return audit_runs_list().exclude(finished=None).first()
