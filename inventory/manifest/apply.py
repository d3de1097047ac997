"""Carry out a Plan in one transaction and record it in the audit log."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from inventory.models import AuditLogEntry, Bot, Connector, Credential, Identity, Owner, Repository, Team

from .plan import CREATE, REMOVE, Plan, fleet_plan, users_by_email

MODELS = {"team": Team, "repository": Repository, "connector": Connector, "bot": Bot,
          "credential": Credential, "identity": Identity, "owner": Owner}


@dataclass(frozen=True)
class ImportResult:
    plan: Plan
    counts: dict
    written: bool


def fleet_import(*, manifest, prune=False, dry_run=False, user=None):
    """Plan and (unless dry_run) apply a manifest, all in one transaction."""
    with transaction.atomic():
        plan = fleet_plan(manifest=manifest)
        if dry_run:
            return ImportResult(plan, plan.counts(prune=prune), written=False)
        counts = fleet_apply(plan=plan, prune=prune, user=user)
    return ImportResult(plan, counts, written=bool(plan.writes(prune=prune)))


def fleet_apply(*, plan, prune, user=None):
    """Write the plan's changes (removals only with prune). Returns the counts logged."""
    changes = plan.writes(prune=prune)
    counts = plan.counts(prune=prune)
    if not changes:
        return counts
    with transaction.atomic():
        # Bots go before their teams are removed; teams and repositories after bots moved off them.
        _remove(changes, ("identity", "credential", "bot"))
        _users_create(changes)
        _teams_upsert(_specs(changes, "team"))
        _repositories_upsert(_specs(changes, "repository"))
        _connectors_upsert(_specs(changes, "connector"))
        _bots_upsert(_specs(changes, "bot"))
        _credentials_upsert([c for c in changes if c.entity == "credential" and c.op != REMOVE])
        _identities_create([c for c in changes if c.entity == "identity" and c.op == CREATE])
        _owners_upsert(_specs(changes, "owner"))
        _remove(changes, ("connector", "repository", "team", "owner"))
        AuditLogEntry.objects.create(user=user, action="fleet.import", target=plan.source,
                                     detail={**counts, "prune": prune})
    return counts


def _specs(changes, entity):
    return [change.spec for change in changes if change.entity == entity and change.op != REMOVE]


def _remove(changes, entities):
    for entity in entities:
        pks = [c.pk for c in changes if c.entity == entity and c.op == REMOVE]
        if pks:
            MODELS[entity].objects.filter(pk__in=pks).delete()


def _users_create(changes):
    for change in changes:
        if change.entity == "user" and change.op == CREATE:
            get_user_model().objects.create_user(username=change.spec, email=change.spec)  # unusable password


def _upsert(model, spec, fields, *, slug=False):
    create = {**fields, "slug": slugify(spec.name)} if slug else fields
    obj, _ = model.objects.update_or_create(name=spec.name, defaults=fields, create_defaults=create)
    return obj


def _teams_upsert(specs):
    users = users_by_email(emails=[email for spec in specs for email in spec.members or ()])
    for spec in specs:
        team = _upsert(Team, spec, {"email": spec.email, "notify": spec.notify}, slug=True)
        if spec.members is not None:
            team.members.set([users[email.lower()] for email in spec.members])


def _owners_upsert(specs):
    for spec in specs:
        Owner.objects.update_or_create(email=spec.email, defaults={"departed": spec.departed})


def _repositories_upsert(specs):
    for spec in specs:
        _upsert(Repository, spec, {"url": spec.url, "branches": list(spec.branches)})


def _connectors_upsert(specs):
    for spec in specs:
        _upsert(Connector, spec, {"kind": spec.kind, "enabled": spec.enabled, "options": spec.options})


def _bots_upsert(specs):
    teams = {team.name: team for team in Team.objects.filter(name__in={spec.team for spec in specs})}
    wanted_repos = {name for spec in specs for name in spec.repositories}
    repos = {repo.name: repo for repo in Repository.objects.filter(name__in=wanted_repos)}
    for spec in specs:
        bot = _upsert(Bot, spec, {
            "team": teams[spec.team], "owner_email": spec.owner, "environment": spec.environment,
            "description": spec.description, "status": spec.status,
        }, slug=True)
        bot.repositories.set([repos[name] for name in spec.repositories])


def _bots_by_name(changes):
    return {bot.name: bot for bot in Bot.objects.filter(name__in={change.bot for change in changes})}


def _credentials_upsert(changes):
    bots = _bots_by_name(changes)
    for change in changes:
        spec = change.spec
        Credential.objects.update_or_create(bot=bots[change.bot], name=spec.name, defaults={
            "store": spec.store, "ref": spec.ref, "service": spec.service, "rotation_days": spec.rotation_days,
        })


def _identities_create(changes):
    bots = _bots_by_name(changes)
    Identity.objects.bulk_create(
        Identity(bot=bots[change.bot], kind=change.spec.kind, ref=change.spec.ref) for change in changes)
