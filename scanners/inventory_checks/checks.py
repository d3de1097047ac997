"""Checks on the declared fleet itself: they need no connector, so the demo shows findings on
day one."""

from collections import defaultdict

from inventory.models import Bot, Credential
from scanners.models import Category, Severity
from scanners.registry import Hit, check
from scanners.subjects import bot_key, credential_key

OUTSIDE_STORES = {
    Credential.Store.ENV_VAR: Severity.MEDIUM,
    Credential.Store.CONFIG_FILE: Severity.MEDIUM,
    Credential.Store.CI_VARIABLE: Severity.MEDIUM,
    Credential.Store.OTHER: Severity.LOW,
}


def _active(fleet):
    return [c for c in fleet.credentials if fleet.bots[c.bot_id].status == Bot.Status.ACTIVE]


@check(
    id="inventory.credential.outside_secrets_manager", severity=Severity.MEDIUM, category=Category.HYGIENE,
    title="Credential kept outside a secrets manager",
    remediation="Move the secret into AWS Secrets Manager or Vault and have the bot read it at run time.",
    owasp="NHI2",
)
def credential_outside_secrets_manager(_obs, ctx):
    for cred in _active(ctx.fleet):
        if cred.store in OUTSIDE_STORES:
            bot = ctx.fleet.bots[cred.bot_id]
            yield Hit(
                subject=credential_key(cred.pk), bot_id=bot.pk,
                severity=OUTSIDE_STORES[cred.store],
                evidence={"credential": cred.name, "store": cred.store, "ref": cred.ref},
            )


@check(
    id="inventory.credential.shared_across_environments", severity=Severity.HIGH,
    category=Category.OVER_BROAD_ACCESS,
    title="One credential shared by several bots or environments",
    remediation="Issue one credential per bot and environment; a test key must not be the production key.",
    owasp="NHI9",
)
def credential_shared(_obs, ctx):
    users = defaultdict(list)
    for cred in _active(ctx.fleet):
        if cred.ref:
            users[(cred.store, cred.ref)].append(cred)
    for (store, ref), creds in sorted(users.items()):
        bots = [ctx.fleet.bots[c.bot_id] for c in creds]
        if len({b.pk for b in bots}) < 2:
            continue
        environments = sorted({b.environment for b in bots})
        shared_with = sorted(b.name for b in bots)
        for bot in bots:
            yield Hit(
                subject=f"shared:{store}:{ref}@{bot_key(bot.pk)}", bot_id=bot.pk,
                evidence={"store": store, "ref": ref, "bots": shared_with, "environments": environments},
            )


@check(
    id="inventory.credential.no_rotation_policy", severity=Severity.LOW, category=Category.STALE_CREDENTIAL,
    title="Credential has no rotation policy",
    remediation="Set rotation_days for the credential in the fleet manifest and rotate on that schedule.",
    owasp="NHI7",
)
def credential_no_rotation_policy(_obs, ctx):
    for cred in _active(ctx.fleet):
        if not cred.rotation_days:
            bot = ctx.fleet.bots[cred.bot_id]
            yield Hit(subject=credential_key(cred.pk), bot_id=bot.pk,
                      evidence={"credential": cred.name, "store": cred.store})


@check(
    id="inventory.bot.no_owner", severity=Severity.MEDIUM, category=Category.INVENTORY_GAP,
    title="Bot has no owner",
    remediation="Name a person who answers for this bot (owner in the fleet manifest), or retire it.",
    owasp="NHI1",
)
def bot_no_owner(_obs, ctx):
    for bot in ctx.fleet.bots.values():
        if bot.status == Bot.Status.ACTIVE and not bot.owner_email:
            yield Hit(subject=bot_key(bot.pk), bot_id=bot.pk, evidence={"team": bot.team.name})


@check(
    id="inventory.bot.owner_departed", severity=Severity.HIGH, category=Category.INVENTORY_GAP,
    title="Bot's owner has left",
    remediation="Hand the bot to a current owner (owner in the fleet manifest), rotate the credentials the "
                "departed owner could reach, or retire the bot.",
    owasp="NHI1",
)
def bot_owner_departed(_obs, ctx):
    """Owner marked departed in the manifest (high), or not an active BotAudit user (medium)."""
    fleet = ctx.fleet
    for bot in fleet.bots.values():
        owner = bot.owner_email.lower()
        if bot.status != Bot.Status.ACTIVE or not owner:
            continue
        if owner in fleet.departed_owners:
            reason, severity = "marked departed in the fleet manifest", Severity.HIGH
        elif owner not in fleet.active_users:
            reason, severity = "not an active BotAudit user", Severity.MEDIUM
        else:
            continue
        yield Hit(subject=bot_key(bot.pk), bot_id=bot.pk, severity=severity,
                  evidence={"owner": bot.owner_email, "reason": reason, "team": bot.team.name})


CHECKS = [credential_outside_secrets_manager, credential_shared, credential_no_rotation_policy, bot_no_owner,
          bot_owner_departed]
