"""Checks on Secrets Manager secrets: rotation, use and resource policy (never their values)."""

from __future__ import annotations

from django.conf import settings

from inventory.credentials import days_since

from ..models import Category, Severity
from ..registry import Hit, check
from .model import arn_account
from .policy import public_statements


def _iso(value):
    return value.isoformat() if value else None


def _evidence(s) -> dict:
    return {"secret": s.arn, "account": arn_account(s.arn), "name": s.name, "region": s.region,
            "rotation_enabled": s.rotation_enabled,
            "created": _iso(s.created), "last_rotated": _iso(s.last_rotated), "last_accessed": _iso(s.last_accessed)}


@check(id="aws.secret.rotation_disabled", severity=Severity.HIGH, category=Category.STALE_CREDENTIAL,
       title="Secret has no automatic rotation",
       remediation="Turn on Secrets Manager rotation with a rotation Lambda for this secret.", owasp="NHI7")
def secret_rotation_disabled(obs, ctx):
    for s in obs.secrets:
        if not s.rotation_enabled:
            yield Hit(subject=s.arn, bot_id=s.bot_id, evidence=_evidence(s))


def _rotation_days(s, ctx) -> int:
    days = [c.rotation_days for c in ctx.fleet.credentials if c.pk in s.credential_ids and c.rotation_days]
    return min(days) if days else settings.BOTAUDIT_AWS_SECRET_ROTATION_DAYS


@check(id="aws.secret.not_rotated", severity=Severity.MEDIUM, category=Category.STALE_CREDENTIAL,
       title="Secret not rotated within its rotation period",
       remediation="Rotate the secret now and on the credential's rotation_days schedule.", owasp="NHI7")
def secret_not_rotated(obs, ctx):
    for s in obs.secrets:
        since = s.last_rotated or s.created
        if since is None:
            continue
        limit, age = _rotation_days(s, ctx), days_since(since, now=ctx.now)
        if age > limit:
            yield Hit(subject=s.arn, bot_id=s.bot_id,
                      evidence={**_evidence(s), "days_since_rotation": age, "limit_days": limit})


@check(id="aws.secret.unused", severity=Severity.LOW, category=Category.HYGIENE,
       title="Secret not accessed recently",
       remediation="Delete secrets nobody reads, or find out why the bot stopped reading it.", owasp="NHI1")
def secret_unused(obs, ctx):
    limit = settings.BOTAUDIT_AWS_SECRET_UNUSED_DAYS
    for s in obs.secrets:
        idle = days_since(s.last_accessed, now=ctx.now)
        if idle is None or idle > limit:
            yield Hit(subject=s.arn, bot_id=s.bot_id, title="Secret never accessed" if idle is None else None,
                      evidence={**_evidence(s), "idle_days": idle, "limit_days": limit})


@check(id="aws.secret.public_policy", severity=Severity.CRITICAL, category=Category.OVER_BROAD_ACCESS,
       title="Secret's resource policy allows any principal",
       remediation="Remove the `\"*\"` principal from the secret's resource policy; name the roles that need it.",
       owasp="NHI2")
def secret_public_policy(obs, ctx):
    for s in obs.secrets:
        if s.policy and (statements := public_statements(s.policy)):
            yield Hit(subject=s.arn, bot_id=s.bot_id, evidence={"secret": s.arn, "account": obs.account_id,
                                                                "statements": statements})


CHECKS = [secret_rotation_disabled, secret_not_rotated, secret_unused, secret_public_policy]
