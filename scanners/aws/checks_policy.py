"""Checks on what principals may do: effective permissions from policy.Permissions."""

from __future__ import annotations

from copy import deepcopy
from functools import lru_cache

from ..models import Category, Severity
from ..registry import Hit, check
from .categories import credentials_exposure
from .escalation import escalations
from .iam_collect import ADMIN_POLICY_ARNS
from .model import arn_account
from .policy import all_actions, principals_in, service_actions

ADMIN_MIN_SHARE = 0.9  # of all known actions, unconstrained, including every iam action
GET_SECRET = "secretsmanager:getsecretvalue"  # noqa: S105 - an action name


LOWER = {Severity.CRITICAL: Severity.HIGH, Severity.HIGH: Severity.MEDIUM, Severity.MEDIUM: Severity.LOW,
         Severity.LOW: Severity.LOW, Severity.INFO: Severity.INFO}


def _principals(obs):
    return [p for p in obs.principals if not p.service_managed]


@lru_cache(maxsize=256)  # many principals share the same action sets (admins: all of them)
def _sorted(actions: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(actions))


def category_hit(p, actions, *, severity: str, extra=None) -> Hit | None:
    """A hit for the `actions` of a category that `p` may use on `*`: at `severity` when some are
    certainly allowed, one step lower ("conditional") when only conditional statements allow them.
    `extra(sorted actions)` adds to the evidence."""
    certain = actions & p.permissions.unconstrained
    conditional = actions & p.permissions.conditional
    if not certain and not conditional:
        return None
    shown = certain or conditional
    ordered = _sorted(shown)
    evidence = {**_who(p), "actions": list(ordered[:50]), "count": len(shown), "conditional": not certain,
                "statements": p.permissions.granting(shown)[:10]}
    if certain and conditional:
        evidence["conditional_actions"] = sorted(conditional)[:50]
    evidence.update(deepcopy(extra(ordered)) if extra else {})  # extra() is cached: never share its dicts
    return Hit(subject=p.arn, bot_id=p.bot_id, evidence=evidence, severity=None if certain else LOWER[severity])


def category_run(actions, *, severity: str, extra=None):
    """A check body: one category_hit per principal for the actions `actions()` returns."""

    def run(obs, ctx):
        for p in _principals(obs):
            if hit := category_hit(p, actions(), severity=severity, extra=extra):
                yield hit

    return run


def _who(p) -> dict:
    """The principal, and for bot roles when it was last used (RoleLastUsed)."""
    out = {"principal": p.arn, "account": arn_account(p.arn)}
    if p.last_used:
        out["last_used"] = p.last_used.isoformat()
    return out


def is_admin(p) -> bool:
    perms = p.permissions
    if any(a in ADMIN_POLICY_ARNS for a in p.unknown_policies) and not perms.denied_everywhere:
        return True
    return service_actions("iam") <= perms.unconstrained and len(perms.unconstrained) >= ADMIN_MIN_SHARE * len(
        all_actions())


@check(id="aws.policy.admin", severity=Severity.CRITICAL, category=Category.OVER_BROAD_ACCESS,
       title="Principal has administrator access",
       remediation="Replace `*` on `*` (or AdministratorAccess) with the few actions and resources the bot needs.",
       owasp="NHI5")
def policy_admin(obs, ctx):
    for p in _principals(obs):
        if is_admin(p):
            broad = [g.describe() for g in p.permissions.grants
                     if not g.conditional and "*" in g.statement.resources and len(g.statement.actions) > 1000]
            admin_arns = [a for a in p.attached if a in ADMIN_POLICY_ARNS]
            yield Hit(subject=p.arn, bot_id=p.bot_id, evidence={
                **_who(p), "statements": broad, "attached": admin_arns,
                "unconstrained_actions": len(p.permissions.unconstrained)})


@check(id="aws.policy.privilege_escalation", severity=Severity.HIGH, category=Category.OVER_BROAD_ACCESS,
       title="Principal can escalate its own privileges",
       remediation="Remove the IAM write actions (or the PassRole + compute combination) of each method in the "
                   "evidence, scope them to specific resources, or restrict PassRole with iam:PassedToService.",
       owasp="NHI5")
def policy_privilege_escalation(obs, ctx):
    for p in _principals(obs):
        found = escalations(p)
        if found:
            certain = [m for m in found if not m["conditional"]]
            yield Hit(subject=p.arn, bot_id=p.bot_id, severity=None if certain else Severity.MEDIUM, evidence={
                **_who(p), "methods": [m["id"] for m in found], "conditional": not certain,
                "actions": sorted({a for m in found for a in m["actions"]}), "details": found[:20]})


@check(id="aws.policy.service_wildcard", severity=Severity.MEDIUM, category=Category.OVER_BROAD_ACCESS,
       title="Policy allows every action of a service (service:*)",
       remediation="List the actions the bot uses instead of `service:*`.", owasp="NHI5")
def policy_service_wildcard(obs, ctx):
    for p in _principals(obs):
        found = []
        for s in p.permissions.allows:
            wild = [x for x in s.patterns if not s.not_action and x.endswith(":*")]
            live = [x for x in wild if service_actions(x[:-2]) - p.permissions.denied_everywhere]
            if live:
                found.append({**s.describe(), "wildcards": live})
        if found:
            yield Hit(subject=p.arn, bot_id=p.bot_id, evidence={**_who(p), "statements": found})


policy_credentials_exposure = check(
    id="aws.policy.credentials_exposure", severity=Severity.HIGH, category=Category.OVER_BROAD_ACCESS,
    title="Principal can obtain credentials on any resource",
    remediation="Constrain credential-returning actions (CreateAccessKey, AssumeRole, GetAuthorizationToken, "
                "ec2:GetPasswordData...) to specific resources, or remove them.", owasp="NHI5",
)(category_run(credentials_exposure, severity=Severity.HIGH))


@check(id="aws.policy.reads_other_bots_secrets", severity=Severity.HIGH, category=Category.OVER_BROAD_ACCESS,
       title="Bot can read secrets that belong to other bots",
       remediation="Don't give 'read all secrets'; give secretsmanager:GetSecretValue on the bot's own secret ARNs.",
       owasp="NHI5")
def policy_reads_other_bots_secrets(obs, ctx):
    for p in _principals(obs):
        if p.bot_id is None:
            continue
        if GET_SECRET in p.permissions.unconstrained:
            yield Hit(subject=p.arn, bot_id=p.bot_id, evidence={
                **_who(p), "resource": "*", "statements": p.permissions.granting({GET_SECRET})})
            continue
        others = []
        for s in [*obs.secrets, *obs.listed_secrets]:
            if s.bot_id is None or s.bot_id == p.bot_id:
                continue
            granting = p.permissions.allowed_on(GET_SECRET, s.arn)
            if granting:
                bot = ctx.fleet.bots.get(s.bot_id)
                others.append({"secret": s.arn, "bot": bot.name if bot else None,
                               "statements": [g.describe() for g in granting][:3]})
        if others:
            yield Hit(subject=p.arn, bot_id=p.bot_id, evidence={**_who(p), "secrets": others[:50],
                                                                "count": len(others)})


@check(id="aws.role.trust_any_principal", severity=Severity.CRITICAL, category=Category.OVER_BROAD_ACCESS,
       title="Role can be assumed by any AWS principal",
       remediation="Name the accounts, roles or services that may assume the role, or add conditions "
                   "(sts:ExternalId, aws:PrincipalOrgID).", owasp="NHI6")
def role_trust_any_principal(obs, ctx):
    for p in _principals(obs):
        if p.kind != "role" or not p.trust:
            continue
        statements = p.trust.get("Statement") or []
        statements = statements if isinstance(statements, list) else [statements]
        open_ = [st for st in statements if isinstance(st, dict) and st.get("Effect") == "Allow"
                 and "*" in principals_in(st) and not st.get("Condition")]
        if open_:
            yield Hit(subject=p.arn, bot_id=p.bot_id, evidence={"role": p.arn, "account": obs.account_id,
                                                                "trust_statements": open_})


CHECKS = [policy_admin, policy_privilege_escalation, policy_service_wildcard, policy_credentials_exposure,
          policy_reads_other_bots_secrets, role_trust_any_principal]
