"""Vault checks on AppRoles, KV secrets and the manifest refs that should exist."""

from __future__ import annotations

from django.conf import settings

from inventory.credentials import days_since
from inventory.models import Bot, Credential, Identity

from ..models import Category, Severity
from ..registry import Hit, check
from ..subjects import bot_key
from .attribution import approle_ref_split, attribution_for, kv_ref_split
from .checks_access import _subject


def _approle_evidence(role) -> dict:
    s = role.settings
    return {
        "role": role.name, "mount": role.mount, "secret_id_ttl": s.get("secret_id_ttl"),
        "secret_id_num_uses": s.get("secret_id_num_uses"),
        "secret_id_bound_cidrs": s.get("secret_id_bound_cidrs") or [],
        "token_bound_cidrs": s.get("token_bound_cidrs") or [], "token_policies": s.get("token_policies") or [],
        "live_secret_ids": len(role.secret_ids),
        "secret_ids_without_expiry": sum(1 for i in role.secret_ids if _never_expires(i.get("expiration_time"))),
    }


def _never_expires(value) -> bool:
    return not value or str(value).startswith("0001-01-01")


@check(
    id="vault.approle.secret_id_no_ttl", severity=Severity.HIGH, category=Category.STALE_CREDENTIAL,
    title="AppRole secret IDs never expire",
    remediation="Set secret_id_ttl on the role (hours or days) and re-issue the bot's secret ID.",
    owasp="NHI7",
)
def approle_secret_id_no_ttl(obs, ctx):
    attr = attribution_for(obs, ctx.fleet)
    for role in obs.approles or []:
        if not role.settings.get("secret_id_ttl"):
            yield Hit(subject=_subject(obs, "approle", role.mount, role.name), bot_id=attr.approle_owner(role),
                      evidence=_approle_evidence(role))


@check(
    id="vault.approle.unbound", severity=Severity.MEDIUM, category=Category.HYGIENE,
    title="AppRole is not bound to a network and its secret IDs have unlimited uses",
    remediation="Set secret_id_bound_cidrs / token_bound_cidrs to the bot's network, or limit secret_id_num_uses.",
    owasp="NHI4",
)
def approle_unbound(obs, ctx):
    attr = attribution_for(obs, ctx.fleet)
    for role in obs.approles or []:
        s = role.settings
        if not s.get("secret_id_bound_cidrs") and not s.get("token_bound_cidrs") and not s.get("secret_id_num_uses"):
            yield Hit(subject=_subject(obs, "approle", role.mount, role.name), bot_id=attr.approle_owner(role),
                      evidence=_approle_evidence(role))


@check(
    id="vault.kv.not_rotated", severity=Severity.MEDIUM, category=Category.STALE_CREDENTIAL,
    title="Vault KV secret not rotated within its rotation period",
    remediation="Rotate the secret (write a new version) and the bot's copy; then keep to rotation_days.",
    owasp="NHI7",
)
def kv_not_rotated(obs, ctx):
    attr = attribution_for(obs, ctx.fleet)
    for secret in obs.kv:
        if secret.updated_time is None:
            continue
        creds = attr.kv_credentials.get((secret.mount, secret.path), [])
        days = attr.kv_rotation_days(secret) or settings.BOTAUDIT_VAULT_ROTATION_DAYS
        age = days_since(secret.updated_time, now=ctx.now)
        if age > days:
            yield Hit(subject=_subject(obs, "kv", secret.ref), bot_id=attr.kv_owner(secret),
                      title=f"Vault secret {secret.ref} not rotated for {age} days (limit {days})",
                      evidence={"path": secret.ref, "updated_time": secret.updated_time.isoformat(),
                                "age_days": age, "rotation_days": days,
                                "credentials": sorted(c.name for c in creds)})


@check(
    id="vault.kv.unowned", severity=Severity.INFO, category=Category.INVENTORY_GAP,
    title="Vault KV secret belongs to no bot",
    remediation="Declare it as a vault_kv credential in the fleet manifest, or set custom_metadata bot=<name>.",
    owasp="NHI1",
)
def kv_unowned(obs, ctx):
    attr = attribution_for(obs, ctx.fleet)
    for secret in obs.kv:
        if attr.kv_owner(secret) is None:
            yield Hit(subject=_subject(obs, "kv", secret.ref),
                      evidence={"path": secret.ref, "custom_metadata_keys": sorted(secret.custom_metadata),
                                "created_time": secret.created_time.isoformat() if secret.created_time else None})


def _missing_refs(obs, fleet):
    """(bot, kind, ref) declared in the manifest and absent from this cluster (only where the
    listing was complete, so a 403 never turns into a false 'missing')."""
    active = {pk for pk, b in fleet.bots.items() if b.status == Bot.Status.ACTIVE}
    present = {(s.mount, s.path) for s in obs.kv}
    for cred in fleet.credentials_in(Credential.Store.VAULT_KV):
        key = kv_ref_split(cred.ref, obs.kv_mounts_complete)
        if cred.bot_id in active and key and key not in present:
            yield cred.bot_id, "vault_kv", cred.ref, f"credential {cred.name}"
    roles = None if obs.approles is None else {(r.mount, r.name) for r in obs.approles}
    token_roles = None if obs.token_roles is None else {r.name for r in obs.token_roles}
    for ident in fleet.identities:
        if ident.bot_id not in active:
            continue
        if ident.kind == Identity.Kind.VAULT_APPROLE and roles is not None:
            mount, name = approle_ref_split(ident.ref)
            if not any(n == name and (mount is None or m == mount) for m, n in roles):
                yield ident.bot_id, ident.kind, ident.ref, "approle identity"
        elif (ident.kind == Identity.Kind.VAULT_TOKEN_ROLE and token_roles is not None
              and ident.ref.strip("/").rpartition("/")[2] not in token_roles):
            yield ident.bot_id, ident.kind, ident.ref, "token role identity"


@check(
    id="vault.inventory.missing", severity=Severity.MEDIUM, category=Category.INVENTORY_GAP,
    title="Vault object named in the fleet manifest does not exist",
    remediation="Fix the ref in the fleet manifest, or create the secret / role in Vault, or retire the bot.",
    owasp="NHI1",
)
def inventory_missing(obs, ctx):
    for bot_id, kind, ref, what in _missing_refs(obs, ctx.fleet):
        bot = ctx.fleet.bots[bot_id]
        yield Hit(subject=_subject(obs, "missing", kind, ref) + f"@{bot_key(bot_id)}", bot_id=bot_id,
                  title=f"Vault {kind} {ref} declared for {bot.name} does not exist",
                  evidence={"kind": kind, "ref": ref, "declared_as": what, "url": obs.url})


CHECKS = [approle_secret_id_no_ttl, approle_unbound, kv_not_rotated, kv_unowned, inventory_missing]
