"""Pure reads that build a team's digest for one ISO week, scoped strictly to that team's bots.

The templates only ever see the plain dicts built here, never model instances: what an email can
show is exactly what these functions copy out, and finding evidence only through EVIDENCE_SHOWN.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from inventory.credentials import credential_rotated_days, credential_rotation_overdue, days_since
from inventory.locations import text_redact
from inventory.models import Bot, Credential, Repository, Team

from ..models import SEVERITY_ORDER, Finding, ProbeRun
from ..selectors.findings import severity_counts
from ..selectors.scores import bot_score_latest
from .asof import (
    bots_standing,
    digest_moment,
    digest_moment_text,
    findings_acknowledged_at,
    findings_open_at,
)
from .links import link_bot, link_digest, link_finding, link_findings
from .triage import triage_section
from .weeks import Week

# Evidence keys a digest may show: redacted previews only, never raw values.
EVIDENCE_SHOWN = ("redacted",)
LISTED_SEVERITIES = ("critical", "high")
MAX_ROWS = 50
MOVERS = 5
PROBLEM_PROBE_STATUSES = (ProbeRun.Status.FAILED, ProbeRun.Status.PARTIAL)


def finding_row(finding: Finding, *, now: datetime) -> dict:
    evidence = finding.evidence if isinstance(finding.evidence, dict) else {}
    shown = {k: str(evidence[k])[:80] for k in EVIDENCE_SHOWN if isinstance(evidence.get(k), str)}
    bot = finding.bot
    return {
        "severity": finding.severity,
        "title": finding.title,
        "check_id": finding.check_id,
        "subject": finding.subject,
        "bot": bot.name if bot else None,
        "bot_link": link_bot(bot.slug) if bot else None,
        "status": finding.status,
        "age_days": days_since(finding.first_seen, now=now),
        "link": link_finding(finding.pk),
        "evidence": shown,
    }


def finding_rows(qs, *, now: datetime) -> dict:
    found = list(qs[: MAX_ROWS + 1])
    return {"rows": [finding_row(f, now=now) for f in found[:MAX_ROWS]], "count": qs.count(),
            "truncated": len(found) > MAX_ROWS}


def _severity_key():
    return Case(*[When(severity=s, then=Value(i)) for i, s in enumerate(SEVERITY_ORDER)],
                output_field=IntegerField())


def findings_ordered(qs: QuerySet[Finding]) -> QuerySet[Finding]:
    """Most severe first, then oldest first."""
    return qs.select_related("bot").annotate(sev=_severity_key()).order_by("sev", "first_seen", "pk")


def findings_of_bots(bots) -> QuerySet[Finding]:
    return findings_ordered(Finding.objects.filter(bot__in=bots))


def open_counts(findings) -> dict[str, int]:
    """By severity, of findings already narrowed to those open at the digest's moment (asof.py)."""
    return severity_counts(findings)


def score_movers(bots, *, week: Week, limit: int = MOVERS) -> list[dict]:
    """Bots whose latest score within the week differs most from their latest before the week."""
    annotated = bots.annotate(after=bot_score_latest(created__gte=week.start, created__lt=week.end),
                              before=bot_score_latest(created__lt=week.start))
    movers = [
        {"bot": b.name, "bot_link": link_bot(b.slug), "before": b.before, "after": b.after,
         "delta": b.after - b.before}
        for b in annotated.filter(after__isnull=False, before__isnull=False) if b.after != b.before
    ]
    movers.sort(key=lambda m: (-abs(m["delta"]), m["bot"]))
    return movers[:limit]


def credentials_overdue(*, now: datetime, bots=None) -> list[dict]:
    """Credentials with a rotation policy whose last rotation (or creation) is older than it."""
    qs = Credential.objects.filter(rotation_days__isnull=False, bot__status=Bot.Status.ACTIVE)
    if bots is not None:
        qs = qs.filter(bot__in=bots)
    overdue = []
    for cred in qs.select_related("bot", "bot__team").order_by("bot__name", "name"):
        if not credential_rotation_overdue(cred, now=now):  # the dashboard's and the export's rule
            continue
        overdue.append({"bot": cred.bot.name, "bot_link": link_bot(cred.bot.slug), "team": cred.bot.team.name,
                        "credential": cred.name, "store": cred.store, "rotation_days": cred.rotation_days,
                        "days_overdue": credential_rotated_days(cred, now=now) - cred.rotation_days,
                        "last_rotated": cred.last_rotated_at or cred.created_at})
    overdue.sort(key=lambda c: (-c["days_overdue"], c["bot"], c["credential"]))
    return overdue


_LOCATION = re.compile(r"://|\w@[\w.-]+:|(?:^|[\s'\"(=])[/~]\S")  # a URL, user@host:path, a path


def probes_failed(*, week: Week, team: Team | None = None) -> list[dict]:
    """Failed or partial probe runs of every connector this week: silence is not safety. Errors are
    redacted; a team sees only error lines about its own repositories or naming no location (other
    lines could name other teams' repositories, URLs or paths: it is told where to look instead)."""
    runs = (ProbeRun.objects.filter(status__in=PROBLEM_PROBE_STATUSES, audit_run__started__gte=week.start,
                                    audit_run__started__lt=week.end)
            .select_related("connector", "audit_run").order_by("audit_run__started", "pk"))
    prefixes, names = None, None
    if team is not None:
        names = set(Repository.objects.filter(bots__team=team).values_list("name", flat=True).distinct())
        prefixes = tuple(f"repository {name}:" for name in names)
    return [
        {"connector": _probe_label(run, names), "kind": run.kind, "status": run.status,
         "when": run.started or run.audit_run.started, "error": _probe_error(run.error, prefixes)}
        for run in runs
    ]


def _probe_label(run: ProbeRun, team_repositories: set[str] | None) -> str:
    """The connector, and its unit where the reader may see it: a git unit is a repository's name,
    named to a team only when it is one of the team's own repositories."""
    label = run.connector.name if run.connector else run.scope
    shown = team_repositories is None or run.kind != "git" or run.unit in team_repositories
    return f"{label} [{run.unit}]" if run.unit and shown else label


def _probe_error(error: str, prefixes: tuple[str, ...] | None) -> str:
    """The first error line (redacted) and how many more; for a team (`prefixes` of its own
    repositories' lines) only lines about its repositories or naming no location at all."""
    lines = [line for line in text_redact(error or "").splitlines() if line.strip()]
    if prefixes is not None:
        lines = [line for line in lines if line.startswith(prefixes) or not _names_a_location(line)]
        if not lines and (error or "").strip():
            return "details on the Runs page (auditors)"
    if not lines:
        return ""
    return lines[0][:200] + (f" (+{len(lines) - 1} more)" if len(lines) > 1 else "")


def _names_a_location(line: str) -> bool:
    return line.startswith("repository ") or bool(_LOCATION.search(line))


def team_recipients(team: Team) -> list[str]:
    owners = Bot.objects.filter(team=team, status=Bot.Status.ACTIVE).exclude(owner_email="")
    emails = {e.strip().lower() for e in [team.email, *owners.values_list("owner_email", flat=True)] if e.strip()}
    return sorted(emails)


def team_digest_build(*, team: Team, week: Week, now: datetime | None = None) -> dict:
    """Every number as of the end of the week (asof.py): open counts, the listed findings and their
    ages, scores, overdue rotations; the week's events (opened, resolved, failed probes) within it."""
    now = now or timezone.now()
    moment = digest_moment(week=week, now=now)
    bots = Bot.objects.filter(team=team)
    findings = findings_of_bots(bots)
    in_week = Q(first_seen__gte=week.start, first_seen__lt=week.end)
    counts = open_counts(findings_open_at(findings, moment))
    opened = finding_rows(findings.filter(in_week), now=moment)
    still_open = finding_rows(findings_open_at(findings, moment).filter(severity__in=LISTED_SEVERITIES),
                              now=moment)
    resolved = finding_rows(findings.filter(status=Finding.Status.RESOLVED, resolved_at__gte=week.start,
                                     resolved_at__lt=week.end), now=moment)
    movers = score_movers(bots.filter(status=Bot.Status.ACTIVE), week=week)
    overdue = credentials_overdue(now=moment, bots=bots)
    failed = probes_failed(week=week, team=team)
    return {
        "kind": "team",
        "team": {"name": team.name, "slug": team.slug},
        "week": week.label, "week_start": week.start, "week_last_day": (week.end - timedelta(days=1)).date(),
        "generated_at": now, "as_of_at": moment, "as_of": digest_moment_text(moment, week=week),
        "counts": counts,
        "open_total": sum(counts.values()),
        "acknowledged": findings_acknowledged_at(findings, moment).count(),
        "still_open": still_open, "opened": opened, "resolved": resolved,
        "movers": movers, "overdue": overdue, "failed_probes": failed,
        "bots": bots_standing(bots.filter(status=Bot.Status.ACTIVE), moment=moment),
        "triage": triage_section(week=week, team=team, now=now),
        "totals": {"bots": bots.filter(status=Bot.Status.ACTIVE).count(),
                   "credentials": Credential.objects.filter(bot__in=bots).count()},
        "all_clear": not (sum(counts.values()) or opened["count"] or overdue or failed),
        "links": {"findings": link_findings(team=team.slug), "preview": link_digest(team_slug=team.slug,
                                                                                     week=week.label)},
    }
