"""Helpers shared by the test packages: a free loopback port, and the one finding factory.

Tests create findings only through `finding_make`, which goes through the product's upsert
(`scanners.services.findings.finding_upsert`) with a *registered* check: an unknown check id, or a
category that is not the check's, is an error instead of a finding no audit could ever produce."""

from __future__ import annotations

import itertools

from devtools.ports import free_port  # noqa: F401  (the one helper, re-exported for tests)
from scanners.models import Finding
from scanners.registry import Hit, check_get
from scanners.services.findings import finding_upsert

_subjects = itertools.count(1)


def finding_make(*, check_id: str, bot=None, subject: str | None = None, severity: str | None = None,
                 title: str | None = None, evidence: dict | None = None, category: str | None = None,
                 scope: str = "test", **stored) -> Finding:
    """Upsert a finding of a registered check. `severity` and `title` override the check's as a Hit
    may; `stored` sets fields a later audit or triage would (status, status_reason, first_seen,
    last_seen, resolved_at, ...) directly on the stored row."""
    chk = check_get(check_id)  # ProbeError naming an unknown id
    if category is not None and category != chk.category:
        raise ValueError(f"check {check_id!r} has category {str(chk.category)!r}, not {category!r}")
    if subject is None:
        subject = f"test:{bot.pk if bot else 'fleet'}:{next(_subjects)}"
    hit = Hit(subject=subject, bot_id=bot.pk if bot else None, evidence=evidence or {"where": subject},
              severity=severity, title=title)
    finding = finding_upsert(check=chk, hit=hit, scope=scope)
    if stored:
        Finding.objects.filter(pk=finding.pk).update(**stored)
        finding.refresh_from_db()
    return finding


def units_rollup(run, kind: str):
    """The units of `kind` in audit `run` seen as one connector: status ok when every unit is ok,
    failed when every unit failed, else partial; errors joined; numeric counts summed."""
    from types import SimpleNamespace

    units = list(run.probe_runs.filter(kind=kind).order_by("pk"))
    statuses = {u.status for u in units}
    status = statuses.pop() if len(statuses) == 1 else "partial"
    counts: dict = {}
    for unit in units:
        for key, value in unit.counts.items():
            if isinstance(value, int):
                counts[key] = counts.get(key, 0) + value
    return SimpleNamespace(status=status, error="\n".join(u.error for u in units if u.error), counts=counts,
                           units=units, api_calls=sum(u.api_calls for u in units))


def units_view(run, *, kind: str):
    """The probe runs of `kind` in audit `run` (one per unit: `<account>/iam`, `<account>/<region>`)
    seen as one: the worst status, every unit's error, summed calls and per-operation counts, merged
    facts, and their scopes. For tests written against the whole connector's result."""
    from types import SimpleNamespace

    from scanners.context import facts_merge

    units = list(run.probe_runs.filter(kind=kind).order_by("pk"))
    assert units, f"audit #{run.pk} has no {kind} probe run"
    rank = ["ok", "partial", "failed", "pending", "running"]
    by_op: dict[str, int] = {}
    for u in units:
        for op, n in (u.counts or {}).get("api_calls_by_operation", {}).items():
            by_op[op] = by_op.get(op, 0) + n
    return SimpleNamespace(
        units=units, status=max((u.status for u in units), key=rank.index),
        error="\n".join(u.error for u in units if u.error), api_calls=sum(u.api_calls for u in units),
        counts={"api_calls_by_operation": by_op}, facts=facts_merge(u.facts for u in units),
        scopes=[u.scope for u in units])
