"""What checks may read besides observations: an in-memory snapshot of the fleet, settings,
the clock, and facts other probes published."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from inventory.models import Bot, Credential, Identity


@dataclass
class Fleet:
    bots: dict[int, Bot]
    credentials: list[Credential]
    identities: list[Identity]
    bot_ids_by_repository: dict[int, list[int]] = field(default_factory=dict)
    # Owner offboarding: emails marked departed in the manifest, and the emails and usernames of active
    # BotAudit users (lower-cased).
    departed_owners: frozenset[str] = frozenset()
    active_users: frozenset[str] = frozenset()

    @classmethod
    def load(cls) -> Fleet:
        from django.contrib.auth import get_user_model

        from inventory.models import Owner

        bots = {b.pk: b for b in Bot.objects.select_related("team").prefetch_related("repositories")}
        repos: dict[int, list[int]] = defaultdict(list)
        for bot in bots.values():
            for repo in bot.repositories.all():
                repos[repo.pk].append(bot.pk)
        return cls(
            bots=bots,
            credentials=list(Credential.objects.all()),
            identities=list(Identity.objects.all()),
            bot_ids_by_repository=dict(repos),
            departed_owners=frozenset(Owner.objects.filter(departed=True).values_list("email", flat=True)),
            active_users=frozenset(
                name.lower() for pair in get_user_model().objects.filter(is_active=True).values_list(
                    "username", "email") for name in pair if name),
        )

    def __post_init__(self):
        self._bots_by_name = {b.name: b for b in self.bots.values()}
        self._identity_owner = {(i.kind, i.ref): i.bot_id for i in self.identities}

    def bot_by_name(self, name: str) -> Bot | None:
        return self._bots_by_name.get(name)

    def identity_owner(self, kind: str, ref: str) -> int | None:
        return self._identity_owner.get((kind, ref))

    def credentials_in(self, store: str) -> list[Credential]:
        return [c for c in self.credentials if c.store == store]


def facts_load(*, kinds, audit_run_id: int | None) -> dict[str, list[tuple[str, dict]]]:
    """Facts other probes published, per unit, for the checks of a probe that declared `uses_facts`.

    Per unit (connector + unit name) of each kind: its probe run in the same audit run when that one
    already finished (ok or partial), else its latest ok/partial run in an earlier audit. Returns
    {kind: [(account, facts), ...]}; ProbeContext.facts_for merges them (optionally one account).
    The pipeline orders phases so that in a Celery audit every unit of a kind finished before the
    units reading its facts start (see services/plan.py).
    """
    from .models import ProbeRun

    facts: dict[str, list[tuple[str, dict]]] = {}
    for kind in kinds:
        runs = (ProbeRun.objects.filter(kind=kind, status__in=[ProbeRun.Status.OK, ProbeRun.Status.PARTIAL])
                .exclude(facts={}).order_by("-finished")
                .values("connector_id", "unit", "account", "audit_run_id", "facts"))
        chosen: dict = {}
        for run in runs:
            key = (run["connector_id"], run["unit"])
            current = chosen.get(key)
            if current is None or (run["audit_run_id"] == audit_run_id != current["audit_run_id"]):
                chosen[key] = run
        facts[kind] = [(run["account"], run["facts"]) for run in chosen.values()]
    return facts


def facts_merge(parts) -> dict:
    """Facts of several units merged key by key ({"active_access_keys": {...}} of every account)."""
    merged: dict = {}
    for part in parts:
        for key, value in part.items():
            merged[key] = {**merged[key], **value} if isinstance(value, dict) and key in merged else value
    return merged


@dataclass
class ProbeContext:
    fleet: Fleet
    now: datetime
    probe_run: object = None  # scanners.models.ProbeRun, when run by the pipeline
    # {kind: [(account, facts), ...]} loaded by the pipeline before checks (a plain {kind: facts} also works)
    facts: dict = field(default_factory=dict)
    unit: object = None  # registry.Unit being collected; the pipeline always sets it (Unit(name="") = whole)

    @classmethod
    def build(cls, probe_run=None, unit=None) -> ProbeContext:
        return cls(fleet=Fleet.load(), now=timezone.now(), probe_run=probe_run, unit=unit)

    def facts_for(self, kind: str, account: str | None = None) -> dict:
        """Facts of `kind` the pipeline loaded (see facts_load), merged over its units, or only the
        units of `account`; no query here, checks stay pure."""
        value = self.facts.get(kind, {})
        if isinstance(value, dict):  # set directly (tests, callers outside the pipeline)
            return value
        return facts_merge(f for acc, f in value if account is None or acc == account)
