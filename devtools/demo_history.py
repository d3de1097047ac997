"""Twelve weeks of demo history through the real pipeline: one backdated audit per week (the clock
patched to that week for the whole run, so audit runs, probe runs, findings' first/last seen,
resolutions and scores carry its dates), while the fleet changes as a team's would: the Vault and
git connectors are onboarded later (their findings open then), bot owners are filled in and rotation
policies added over the weeks (those findings resolve). The inventory is restored to the manifest's
state at the end, so the next real audit shows today's fleet.

Runs only on a demo database without audits: a backdated run after a real one would become the
"latest" score (the newest audit run by id)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest import mock

from django.utils import timezone

from inventory.models import Bot, Connector, Credential
from scanners.models import AuditRun
from scanners.services.audit import audit_run_in_process

WEEKS = 12
TRIGGER = "demo-history"
# Connectors by kind, and the week (weeks ago) from which the demo team audits them.
ONBOARDED = {"aws": WEEKS, "vault": 9, "git": 6}
# Bots whose owner was only recorded in week N (weeks ago): `inventory.bot.no_owner` until then.
OWNER_FILLED = {"payout-reconciler": 10, "etl-loader": 8, "report-mailer": 5, "helpdesk-bot": 3}
# The weeks in which the first credentials with a rotation policy got it (one each, oldest first).
ROTATION_ADDED = (11, 9, 7, 5, 4, 2)


@contextmanager
def clock_at(moment: datetime):
    """django.utils.timezone.now() runs from `moment` on (real seconds still pass), for every caller
    that looks it up at call time (the code base and Django's auto_now fields do)."""
    real = timezone.now
    offset = moment - real()
    with mock.patch("django.utils.timezone.now", lambda: real() + offset):
        yield


def _history_plan(now: datetime) -> list[tuple[int, datetime]]:
    """(weeks ago, when) for each backdated audit: Wednesdays at 03:00, oldest first."""
    plan = []
    for ago in range(WEEKS, 0, -1):
        day = (now - timedelta(weeks=ago)).date()
        wednesday = day - timedelta(days=day.weekday() - 2)
        plan.append((ago, datetime(wednesday.year, wednesday.month, wednesday.day, 3, 0, tzinfo=now.tzinfo)))
    return plan


def _inventory_as_of(ago: int, *, owners: dict[int, str], rotations: list[tuple[int, int]]) -> None:
    for bot in Bot.objects.filter(name__in=OWNER_FILLED):
        filled = ago <= OWNER_FILLED[bot.name]
        Bot.objects.filter(pk=bot.pk).update(owner_email=owners[bot.pk] if filled else "")
    for (cred_id, days), added in zip(rotations, ROTATION_ADDED, strict=False):
        Credential.objects.filter(pk=cred_id).update(rotation_days=days if ago <= added else None)


def demo_history_seed(*, progress=None) -> str:
    if AuditRun.objects.exists():
        return "history: skipped, this database already has audits (history goes before the first one)"
    if not Bot.objects.exists():
        return "history: skipped, no fleet imported"
    owners = dict(Bot.objects.filter(name__in=OWNER_FILLED).values_list("pk", "owner_email"))
    rotations = list(Credential.objects.filter(rotation_days__isnull=False, bot__status=Bot.Status.ACTIVE)
                     .order_by("bot__name", "name").values_list("pk", "rotation_days")[:len(ROTATION_ADDED)])
    connectors = {c.name: c.kind for c in Connector.objects.filter(enabled=True)}
    runs = []
    try:
        for ago, when in _history_plan(timezone.now()):
            _inventory_as_of(ago, owners=owners, rotations=rotations)
            names = [name for name, kind in connectors.items() if ago <= ONBOARDED.get(kind, WEEKS)]
            with clock_at(when):
                run = audit_run_in_process(trigger=TRIGGER, connector_names=names)
            runs.append(run)
            if progress:
                progress(f"history: audit #{run.pk} of {when:%Y-%m-%d} ({', '.join(names) or 'inventory only'}): "
                         f"{run.status}")
    finally:
        _inventory_as_of(0, owners=owners, rotations=rotations)  # the manifest's state again
    bad = [r.pk for r in runs if r.status == AuditRun.Status.FAILED]
    return (f"history: {len(runs)} weekly audits from {runs[0].started:%Y-%m-%d} to {runs[-1].started:%Y-%m-%d}"
            + (f" (failed: {bad})" if bad else ""))
