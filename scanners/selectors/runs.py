"""Reads of audit and probe runs."""

from __future__ import annotations

import time

from django.db.models import Prefetch, QuerySet

from ..models import AuditRun, ProbeRun
from .findings import findings_list


def audit_runs_list() -> QuerySet[AuditRun]:
    """Runs with their units, without the units' facts (a Vault kv unit's can be large; no page shows them)."""
    units = ProbeRun.objects.select_related("connector").defer("facts")
    return AuditRun.objects.prefetch_related(Prefetch("probe_runs", queryset=units)).order_by("-started")


def audit_run_latest() -> AuditRun | None:
    return audit_runs_list().exclude(finished=None).first()


def audit_run_summary(*, audit_run: AuditRun) -> dict:
    """The `audit --json` contract: every unit in `probes` (connector, kind, unit, account, status, error)."""
    probes = [
        {"connector": pr.connector.name if pr.connector else None, "kind": pr.kind, "unit": pr.unit,
         "account": pr.account or None, "status": pr.status, "error": pr.error_shown or None}
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
    deadline = time.monotonic() + timeout
    while True:
        run = AuditRun.objects.get(pk=audit_run_id)
        if run.finished or time.monotonic() >= deadline:
            return run if run.finished else None
        time.sleep(poll)


def probe_runs_grouped(probe_runs) -> list[dict]:
    """Units grouped by connector (the inventory probe on its own), in the order they were created:
    each group with its units, how many per status, wall time (first start to last finish) and calls."""
    groups: dict = {}
    for pr in probe_runs:
        key = pr.connector_id if pr.connector_id else f"kind:{pr.kind}"
        group = groups.setdefault(key, {"label": pr.connector.name if pr.connector else pr.kind, "kind": pr.kind,
                                        "units": [], "statuses": {}, "api_calls": 0, "errors": 0})
        group["units"].append(pr)
        group["statuses"][pr.status] = group["statuses"].get(pr.status, 0) + 1
        group["api_calls"] += pr.api_calls
        group["errors"] += bool(pr.error)
    for group in groups.values():
        starts = [u.started for u in group["units"] if u.started]
        ends = [u.finished for u in group["units"] if u.finished]
        group["seconds"] = (max(ends) - min(starts)).total_seconds() if starts and ends else None
        group["single"] = len(group["units"]) == 1 and not group["units"][0].unit
    return list(groups.values())
