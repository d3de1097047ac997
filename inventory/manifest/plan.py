"""Compare a validated manifest with the inventory: what to create, update and remove.

`fleet_plan` only reads. Objects in the inventory but not in the manifest become REMOVE
changes; whether they are removed or merely reported is decided by `--prune` at apply time.
"""

import json
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.text import slugify

from inventory.models import Bot, Connector, Owner, Repository, Team

from .errors import ManifestError, ManifestIssue

CREATE, UPDATE, REMOVE = "+", "~", "-"
ENTITIES = ("user", "team", "repository", "connector", "bot", "credential", "identity", "owner")
ABSENT = object()  # a connector option set on one side only


@dataclass(frozen=True)
class FieldDiff:
    field: str
    old: object
    new: object


@dataclass(frozen=True)
class Change:
    op: str
    entity: str
    key: str  # what the plan shows: "invoice-bot", "invoice-bot/stripe-key"
    diffs: tuple[FieldDiff, ...] = ()
    spec: object = None  # the wanted state, for CREATE and UPDATE
    bot: str = ""  # owning bot of a credential or identity
    pk: int | None = None  # for REMOVE
    note: str = ""

    def lines(self, *, prune):
        if self.op == UPDATE:
            return [f"~ {self.entity} {self.key}: {d.field} {_show(d.old)} -> {_show(d.new)}" for d in self.diffs]
        if self.op == REMOVE and not prune:
            return [f"! {self.entity} {self.key}: not in the manifest (kept; --prune removes it)"]
        return [f"{self.op} {self.entity} {self.key}{self.note}"]


@dataclass(frozen=True)
class Plan:
    source: str
    changes: tuple[Change, ...]

    def writes(self, *, prune):
        return [change for change in self.changes if change.op != REMOVE or prune]

    def kept(self, *, prune):
        return [] if prune else [change for change in self.changes if change.op == REMOVE]

    def lines(self, *, prune):
        return [line for change in self.changes for line in change.lines(prune=prune)]

    def counts(self, *, prune):
        counts = {"created": {}, "updated": {}, "removed": {}, "kept": {}}
        bucket = {CREATE: "created", UPDATE: "updated", REMOVE: "removed" if prune else "kept"}
        for change in self.changes:
            per_entity = counts[bucket[change.op]]
            per_entity[change.entity] = per_entity.get(change.entity, 0) + 1
        return counts


def fleet_plan(*, manifest):
    """Manifest -> Plan. Raises ManifestError when a new name's slug is taken in the inventory."""
    users = users_by_email(emails=_member_emails(manifest))
    changes = [Change(CREATE, "user", email, spec=email)
               for email in sorted({e.lower(): e for e in _member_emails(manifest)}.values())
               if email.lower() not in users]
    teams = Team.objects.prefetch_related("members")
    changes += _diff_named("team", manifest.teams, teams, lambda t, s: _team_state(t, s, users))
    changes += _diff_named("repository", manifest.repositories, Repository.objects.all(), _repository_state)
    changes += _diff_named("connector", manifest.connectors, Connector.objects.all(), _connector_state)
    bots = {bot.name: bot for bot in Bot.objects.select_related("team").prefetch_related(
        "repositories", "credentials", "identities")}
    changes += _diff_named("bot", manifest.bots, bots.values(), _bot_state)
    for spec in manifest.bots:
        changes += _bot_children(spec, bots.get(spec.name))
    changes += _owners_diff(manifest.owners)
    _check_slugs(manifest, changes)
    return Plan(manifest.source, tuple(changes))


def users_by_email(*, emails):
    """Lower-cased email -> user, matching username first, then email (case-insensitively)."""
    wanted = {email.lower() for email in emails}
    if not wanted:
        return {}
    by_username, by_email = {}, {}
    for user in get_user_model().objects.annotate(u=Lower("username"), e=Lower("email")).filter(
            Q(u__in=wanted) | Q(e__in=wanted)).order_by("pk"):
        if user.u in wanted:
            by_username.setdefault(user.u, user)
        if user.e in wanted:
            by_email.setdefault(user.e, user)
    return by_email | by_username


def member_key(user):
    return (user.email or user.username).lower()


def _member_emails(manifest):
    return [email for team in manifest.teams for email in team.members or ()]


def _diff_named(entity, specs, existing, state):
    by_name = {obj.name: obj for obj in existing}
    for spec in specs:
        obj = by_name.pop(spec.name, None)
        if obj is None:
            yield Change(CREATE, entity, spec.name, spec=spec)
        elif diffs := _diffs(*state(obj, spec)):
            yield Change(UPDATE, entity, spec.name, diffs, spec=spec)
    for name in sorted(by_name):
        obj = by_name[name]
        note = ""
        if entity == "bot":
            note = f" (with {len(obj.credentials.all())} credentials, {len(obj.identities.all())} identities)"
        yield Change(REMOVE, entity, name, pk=obj.pk, note=note)


def _bot_children(spec, bot):
    credentials = {c.name: c for c in bot.credentials.all()} if bot else {}
    for cred in spec.credentials:
        current = credentials.pop(cred.name, None)
        key = f"{spec.name}/{cred.name}"
        if current is None:
            yield Change(CREATE, "credential", key, spec=cred, bot=spec.name)
        elif diffs := _diffs(*_credential_state(current, cred)):
            yield Change(UPDATE, "credential", key, diffs, spec=cred, bot=spec.name)
    for name in sorted(credentials):
        yield Change(REMOVE, "credential", f"{spec.name}/{name}", pk=credentials[name].pk, bot=spec.name)
    identities = {(i.kind, i.ref): i for i in bot.identities.all()} if bot else {}
    for ident in spec.identities:
        if identities.pop((ident.kind, ident.ref), None) is None:
            yield Change(CREATE, "identity", f"{spec.name}/{ident.kind}:{ident.ref}", spec=ident, bot=spec.name)
    for kind, ref in sorted(identities):
        yield Change(REMOVE, "identity", f"{spec.name}/{kind}:{ref}", pk=identities[kind, ref].pk, bot=spec.name)


def _owners_diff(specs):
    """Owners are managed only when the file has an `owners:` section (keyed by email)."""
    if specs is None:
        return []
    existing = {owner.email: owner for owner in Owner.objects.all()}
    changes = []
    for spec in specs:
        owner = existing.pop(spec.email, None)
        if owner is None:
            changes.append(Change(CREATE, "owner", spec.email, spec=spec,
                                  note=" (departed)" if spec.departed else ""))
        elif owner.departed != spec.departed:
            changes.append(Change(UPDATE, "owner", spec.email, (FieldDiff("departed", owner.departed, spec.departed),),
                                  spec=spec))
    changes += [Change(REMOVE, "owner", email, pk=existing[email].pk) for email in sorted(existing)]
    return changes


def _team_state(team, spec, users):
    old, new = {"email": team.email, "notify": team.notify or {}}, {"email": spec.email, "notify": spec.notify}
    if spec.members is not None:  # membership is managed only when the file lists it
        old["members"] = sorted(member_key(user) for user in team.members.all())
        new["members"] = sorted(member_key(users[e.lower()]) if e.lower() in users else e.lower()
                                for e in spec.members)
    return old, new


def _repository_state(repo, spec):
    return {"url": repo.url, "branches": list(repo.branches)}, {"url": spec.url, "branches": list(spec.branches)}


def _connector_state(connector, spec):
    old = {"kind": connector.kind, "enabled": connector.enabled}
    new = {"kind": spec.kind, "enabled": spec.enabled}
    for key in sorted(set(connector.options) | set(spec.options)):
        old[key] = connector.options.get(key, ABSENT)
        new[key] = spec.options.get(key, ABSENT)
    return old, new


def _bot_state(bot, spec):
    old = {"team": bot.team.name, "owner": bot.owner_email, "environment": bot.environment,
           "description": bot.description, "status": bot.status,
           "repositories": sorted(repo.name for repo in bot.repositories.all())}
    new = {"team": spec.team, "owner": spec.owner, "environment": spec.environment,
           "description": spec.description, "status": spec.status, "repositories": sorted(spec.repositories)}
    return old, new


def _credential_state(cred, spec):
    fields = ("store", "ref", "service", "rotation_days")
    return {f: getattr(cred, f) for f in fields}, {f: getattr(spec, f) for f in fields}


def _diffs(old, new):
    return tuple(FieldDiff(key, old[key], new[key]) for key in new if old[key] != new[key])


def _check_slugs(manifest, changes):
    """A new team or bot must not take a slug already used under another name."""
    issues = []
    specs = {(c.entity, c.key): c.spec for c in changes if c.op == CREATE and c.entity in ("team", "bot")}
    for model, entity in ((Team, "team"), (Bot, "bot")):
        wanted = {slugify(spec.name): spec for (kind, _), spec in specs.items() if kind == entity}
        for name, slug in model.objects.filter(slug__in=wanted).values_list("name", "slug"):
            spec = wanted[slug]
            issues.append(ManifestIssue(manifest.source, spec.line, f"{spec.path}.name",
                                        f"slug '{slug}' is already used by {entity} '{name}'"))
    if issues:
        raise ManifestError(issues)


def _show(value, limit=60):
    if value is ABSENT:
        return "(unset)"
    if value is None:
        return "null"
    if isinstance(value, str):
        text = value if value else "''"
    else:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
