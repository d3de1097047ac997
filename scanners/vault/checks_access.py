"""Vault checks on who can do what: audit devices, tokens and the policies attached to bots."""

from __future__ import annotations

import re
from collections import defaultdict

from django.conf import settings

from ..models import Category, Severity
from ..registry import Hit, check
from ..subjects import bot_key
from .attribution import attribution_for
from .policy import DENY, PathIndex

PLUS_GLOB = re.compile(r"(\+/)+\*")


def _subject(obs, *parts) -> str:
    return ":".join(["vault", obs.cluster, *parts])


def _token_evidence(token) -> dict:
    return {
        "accessor": token.accessor, "display_name": token.display_name, "policies": sorted(token.policies),
        "ttl_seconds": token.ttl, "creation_ttl_seconds": token.creation_ttl, "period_seconds": token.period,
        "expire_time": token.expire_time.isoformat() if token.expire_time else None, "orphan": token.orphan,
        "path": token.path,
    }


@check(
    id="vault.audit.disabled", severity=Severity.CRITICAL, category=Category.HYGIENE,
    title="Vault has no audit device enabled",
    remediation="Enable at least one audit device (file, syslog or socket) so every request to Vault is logged.",
    owasp="NHI6",
)
def audit_disabled(obs, ctx):
    if obs.audit_devices == []:  # None means we could not read them: say nothing
        yield Hit(subject=_subject(obs, "audit"), evidence={"url": obs.url, "version": obs.version})


@check(
    id="vault.token.root", severity=Severity.CRITICAL, category=Category.OVER_BROAD_ACCESS,
    title="A live Vault token holds the root policy",
    remediation="Revoke the root token (vault token revoke -accessor ...); generate one only for break-glass use.",
    owasp="NHI5",
)
def token_root(obs, ctx):
    attr = attribution_for(obs, ctx.fleet)
    for token in obs.tokens or []:
        if "root" in token.policies:
            yield Hit(subject=_subject(obs, "token", token.accessor), bot_id=attr.token_owner(token),
                      evidence=_token_evidence(token))


@check(
    id="vault.token.no_expiry", severity=Severity.HIGH, category=Category.STALE_CREDENTIAL,
    title="Vault token never expires",
    remediation="Issue tokens with a TTL (or a period, renewed by the bot) and revoke this one.",
    owasp="NHI7",
)
def token_no_expiry(obs, ctx):
    attr = attribution_for(obs, ctx.fleet)
    for token in obs.tokens or []:
        if "root" not in token.policies and token.expire_time is None and not token.period:
            yield Hit(subject=_subject(obs, "token", token.accessor), bot_id=attr.token_owner(token),
                      evidence=_token_evidence(token))


@check(
    id="vault.token.long_ttl", severity=Severity.MEDIUM, category=Category.STALE_CREDENTIAL,
    title="Vault token TTL longer than 30 days",
    remediation="Lower the token TTL (token_ttl / token_max_ttl on the role) to days, not months.",
    owasp="NHI7",
)
def token_long_ttl(obs, ctx):
    attr = attribution_for(obs, ctx.fleet)
    limit = settings.BOTAUDIT_VAULT_TOKEN_MAX_TTL_DAYS * 86400
    for token in obs.tokens or []:
        ttl = max(token.ttl, token.creation_ttl)
        if ttl > limit:
            yield Hit(subject=_subject(obs, "token", token.accessor), bot_id=attr.token_owner(token),
                      evidence={**_token_evidence(token), "limit_days": settings.BOTAUDIT_VAULT_TOKEN_MAX_TTL_DAYS},
                      title=f"Vault token TTL of {ttl // 86400} days (limit {limit // 86400})")


def broad_paths(obs) -> set[str]:
    """Paths that grant a whole mount: `secret/*`, `secret/data/*`, `secret/metadata/*`, `secret/+/*`,
    `sys/*`, `auth/approle/*` ... (cubbyhole is per token, so not counted)."""
    paths = set()
    for mount, info in obs.secret_engines.items():
        if info.get("type") == "cubbyhole":
            continue
        paths.add(f"{mount}*")
        if info.get("type") == "kv":
            paths.update({f"{mount}data/*", f"{mount}metadata/*", f"{mount}+/*"})
    paths.update(f"auth/{mount}*" for mount in obs.auth_methods)
    return paths


def _live_rules(obs, policy):
    return [r for r in obs.policies.get(policy, []) if r.capabilities and DENY not in r.capabilities]


@check(
    id="vault.policy.wildcard", severity=Severity.HIGH, category=Category.OVER_BROAD_ACCESS,
    title="Bot's Vault policy grants a wildcard or a whole mount",
    remediation="Replace the wildcard with the exact paths the bot needs (e.g. secret/data/<team>/<bot>/*).",
    owasp="NHI5",
)
def policy_wildcard(obs, ctx):
    attr = attribution_for(obs, ctx.fleet)
    broad = broad_paths(obs)
    for bot_id, policies in sorted(attr.bot_policies.items()):
        for policy, attached in sorted(policies.items()):
            for rule in _live_rules(obs, policy):
                if rule.path == "*" or PLUS_GLOB.fullmatch(rule.path) or rule.path in broad:
                    yield Hit(subject=_subject(obs, "policy", policy, rule.path) + f"@{bot_key(bot_id)}", bot_id=bot_id,
                              evidence={"policy": policy, "path": rule.path,
                                        "capabilities": sorted(rule.capabilities), "attached_via": attached})


@check(
    id="vault.policy.sudo", severity=Severity.HIGH, category=Category.OVER_BROAD_ACCESS,
    title="Bot's Vault policy has the sudo capability",
    remediation="Remove sudo from the bot's policy; root-protected endpoints are for operators, not bots.",
    owasp="NHI5",
)
def policy_sudo(obs, ctx):
    attr = attribution_for(obs, ctx.fleet)
    for bot_id, policies in sorted(attr.bot_policies.items()):
        for policy, attached in sorted(policies.items()):
            paths = sorted(r.path for r in _live_rules(obs, policy) if "sudo" in r.capabilities)
            if paths:
                yield Hit(subject=_subject(obs, "policy", policy, "sudo") + f"@{bot_key(bot_id)}", bot_id=bot_id,
                          evidence={"policy": policy, "paths": paths, "attached_via": attached})


@check(
    id="vault.policy.reads_other_bots_secrets", severity=Severity.HIGH, category=Category.OVER_BROAD_ACCESS,
    title="Bot's Vault policies can read another bot's secrets",
    remediation="Scope each bot's policy to its own KV paths; one bot must not read another's secrets.",
    owasp="NHI5",
)
def reads_other_bots_secrets(obs, ctx):
    attr = attribution_for(obs, ctx.fleet)
    owned = {s.read_path: (s, owners) for s in [*obs.kv, *obs.kv_elsewhere] if (owners := attr.kv_owners(s))}
    index = PathIndex(owned)
    for bot_id in sorted(attr.bot_policies):
        readable = defaultdict(list)
        for path in index.readable(attr.acl(bot_id)):
            secret, owners = owned[path]
            if bot_id not in owners:
                for owner in owners:
                    readable[owner].append(secret.ref)
        bot = ctx.fleet.bots[bot_id]
        for owner, refs in sorted(readable.items()):
            other = ctx.fleet.bots[owner]
            evidence = {"other_bot": other.name, "secrets": sorted(refs)[:20], "count": len(refs),
                        "policies": sorted(attr.bot_policies[bot_id])}
            if templated := attr.templates_resolved(bot_id):
                entities = [e.name for e in attr.bot_entities.get(bot_id, [])]
                evidence["templates_resolved"] = {"policies": templated, "entities": entities}
            yield Hit(subject=_subject(obs, "reads", bot_key(bot_id), bot_key(owner)), bot_id=bot_id,
                      title=f"{bot.name} can read secrets of {other.name}", evidence=evidence)


CHECKS = [audit_disabled, token_root, token_no_expiry, token_long_ttl, policy_wildcard, policy_sudo,
          reads_other_bots_secrets]
