"""Reads for the Leaks pages: one row per leaked secret (keyed fingerprint), aggregated in the
database over the git leak findings a user may see, so a viewer's rows, counts and bots come only
from their teams' findings. No secret value exists here: evidence holds the redacted preview and the
fingerprint only."""

from __future__ import annotations

import json

from django.db.models import Case, CharField, Count, IntegerField, Max, Min, Q, QuerySet, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from inventory.models import Repository
from inventory.selectors import user_is_auditor
from scanners.git.leaks import CONFIDENCE_ORDER
from scanners.models import SEVERITY_ORDER, Finding
from scanners.selectors.findings import findings_visible_to

LEAK_CHECKS = ("git.secret.leaked", "git.secret.leaked_active_aws_key")


def _rank(field: str, order) -> Case:
    return Case(*[When(**{field: v}, then=Value(i)) for i, v in enumerate(order)], default=Value(0),
                output_field=IntegerField())


def severity_name(rank: int) -> str:
    """The severity a `severity_rank` of `leak_rows` stands for ("?" for a rank out of range)."""
    return SEVERITY_ORDER[rank] if 0 <= rank < len(SEVERITY_ORDER) else "?"


def confidence_name(rank: int) -> str:
    """The confidence a `confidence_rank` of `leak_rows` stands for ("?" for a rank out of range)."""
    return CONFIDENCE_ORDER[rank] if 0 <= rank < len(CONFIDENCE_ORDER) else "?"


def leak_findings_visible(*, user) -> QuerySet[Finding]:
    """The git leak findings a user may see, each annotated with its secret fingerprint (`sfp`)."""
    # Cast: plain text, so `sfp__in` is SQL IN on every backend (SQLite reads a JSON key's IN list as JSON)
    return (findings_visible_to(user).filter(check_id__in=LEAK_CHECKS)
            .annotate(sfp=Cast(KT("evidence__secret_fingerprint"), CharField())).filter(sfp__isnull=False))


def leak_rows(findings: QuerySet[Finding]) -> QuerySet:
    """One dict per secret over `findings` (already filtered): preview, rules, best confidence,
    worst severity, locations, repositories, first seen, still active, findings and open ones."""
    return (findings.order_by().values("sfp").annotate(
        redacted=Max(KT("evidence__redacted")),
        rules=Max(KT("evidence__rule_ids")),
        repositories=Max(KT("evidence__repositories")),
        confidence_rank=Min(_rank("evidence__confidence", CONFIDENCE_ORDER)),
        severity_rank=Min(_rank("severity", SEVERITY_ORDER)),
        locations=Max(Cast(KT("evidence__location_count"), IntegerField())),
        first_seen=Min("first_seen"),
        active=Max(Case(When(evidence__still_at_head=True, then=Value(1)), default=Value(0),
                        output_field=IntegerField())),
        bots=Count("bot", distinct=True),
        findings=Count("pk"),
        open=Count("pk", filter=Q(status=Finding.Status.OPEN)),
    ).order_by("-active", "severity_rank", "first_seen", "sfp"))


def json_list(text) -> list:
    """A JSON list as read through KT (text), or [] for anything else."""
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def leak_bots(*, findings: QuerySet[Finding], fingerprints) -> dict[str, list[tuple[str, str]]]:
    """{secret fingerprint: [(bot name, slug)]} for the rows on a page: one query."""
    out: dict[str, list] = {}
    rows = (findings.filter(sfp__in=list(fingerprints), bot__isnull=False).order_by("bot__name")
            .values_list("sfp", "bot__name", "bot__slug").distinct())
    for sfp, name, slug in rows:
        out.setdefault(sfp, []).append((name, slug))
    return out


def leak_repositories_visible(*, user) -> QuerySet[Repository]:
    """Repository filter choices: all for auditors, else those of the viewer's teams' bots."""
    if user_is_auditor(user):
        return Repository.objects.all()
    if not user.is_authenticated:
        return Repository.objects.none()
    return Repository.objects.filter(bots__team__members=user).distinct()


def leak_detail(*, user, fingerprint: str) -> dict | None:
    """The findings (one per bot the user may see) and the locations of one secret; None if the
    user sees no finding of it."""
    findings = list(leak_findings_visible(user=user).filter(sfp=fingerprint)
                    .select_related("bot", "bot__team").order_by("check_id", "bot__name"))
    if not findings:
        return None
    latest = max(findings, key=lambda f: f.last_seen).evidence
    return {
        "fingerprint": fingerprint, "findings": findings, "evidence": latest,
        "locations": latest.get("locations", []), "location_count": latest.get("location_count", 0),
        "severity": min((f.severity for f in findings), key=SEVERITY_ORDER.index),
    }
