"""Reads of the findings store."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from inventory.locations import text_redact

from .models import SEVERITY_ORDER, AuditRun, Finding


def findings_list(*, status: str | None = None, bot: str | None = None, team: str | None = None,
                  severity: str | None = None, check_id: str | None = None) -> QuerySet[Finding]:
    qs = Finding.objects.select_related("bot", "bot__team")
    if status:
        qs = qs.filter(status=status)
    if bot:
        qs = qs.filter(bot__name=bot)
    if team:
        qs = qs.filter(bot__team__name=team)
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


def audit_run_summary(*, audit_run: AuditRun) -> dict:
    """The `audit --json` contract."""
    probes = [
        {"connector": pr.connector.name if pr.connector else None, "kind": pr.kind,
         "status": pr.status, "error": text_redact(pr.error) or None}  # rows stored before redaction too
        for pr in audit_run.probe_runs.select_related("connector").order_by("pk")
    ]
    findings = [
        {"check_id": f.check_id, "severity": f.severity, "category": f.category,
         "bot": f.bot.name if f.bot else None, "subject": f.subject, "fingerprint": f.fingerprint,
         "status": f.status}
        for f in findings_list().filter(last_probe_run__audit_run=audit_run)
    ]
    return {"audit_run": audit_run.pk, "status": audit_run.status, "probes": probes, "findings": findings}


def audit_run_wait(*, audit_run_id: int, timeout: float, poll: float = 0.3) -> AuditRun | None:
    """Poll until the audit run has finished; None when `timeout` seconds pass first."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        run = AuditRun.objects.get(pk=audit_run_id)
        if run.finished or time.monotonic() >= deadline:
            return run if run.finished else None
        time.sleep(poll)
