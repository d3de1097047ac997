"""Checks on IAM users' access keys and the root account. Evidence shows key ids redacted."""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings

from inventory.credentials import days_since

from ..models import Category, Severity
from ..registry import Hit, check
from .model import arn_account


def _active(obs):
    return [k for k in obs.keys if k.active]


def _key_subject(k) -> str:
    return f"{k.user_arn}#key:{k.fingerprint[:16]}"


def _key_evidence(k, now) -> dict:
    return {"user": k.user_arn, "account": arn_account(k.user_arn), "key": k.redacted,
            "created": k.created.isoformat() if k.created else None,
            "age_days": days_since(k.created, now=now),
            "last_used": k.last_used.isoformat() if k.last_used else None}


@check(id="aws.user.static_keys", severity=Severity.MEDIUM, category=Category.HYGIENE,
       title="Bot authenticates as an IAM user with a static access key",
       remediation="Give the bot an IAM role (instance profile, IRSA, OIDC federation) and delete the user's keys.",
       owasp="NHI7")
def user_static_keys(obs, ctx):
    by_user = defaultdict(list)
    for k in _active(obs):
        if k.bot_id is not None:
            by_user[k.user_arn].append(k)
    for user, keys in sorted(by_user.items()):
        yield Hit(subject=user, bot_id=keys[0].bot_id, evidence={"user": user, "account": obs.account_id,
                                                            "keys": [k.redacted for k in keys]})


@check(id="aws.key.stale", severity=Severity.MEDIUM, category=Category.STALE_CREDENTIAL,
       title="Active access key older than the rotation limit",
       remediation="Create a new key, switch the bot to it, deactivate and delete the old one.", owasp="NHI7")
def key_stale(obs, ctx):
    limit = settings.BOTAUDIT_AWS_KEY_MAX_AGE_DAYS
    for k in _active(obs):
        age = days_since(k.created, now=ctx.now)
        if age is not None and age > limit:
            yield Hit(subject=_key_subject(k), bot_id=k.bot_id,
                      severity=Severity.HIGH if age > 2 * limit else None,
                      evidence={**_key_evidence(k, ctx.now), "limit_days": limit})


@check(id="aws.key.unused", severity=Severity.MEDIUM, category=Category.STALE_CREDENTIAL,
       title="Active access key unused", remediation="Deactivate and delete keys nobody uses.", owasp="NHI1")
def key_unused(obs, ctx):
    limit = settings.BOTAUDIT_AWS_KEY_UNUSED_DAYS
    for k in _active(obs):
        idle = days_since(k.last_used, now=ctx.now)
        if idle is None or idle > limit:
            yield Hit(subject=_key_subject(k), bot_id=k.bot_id,
                      title="Active access key never used" if idle is None else None,
                      evidence={**_key_evidence(k, ctx.now), "idle_days": idle, "limit_days": limit})


@check(id="aws.key.multiple_active", severity=Severity.LOW, category=Category.HYGIENE,
       title="IAM user has more than one active access key",
       remediation="Keep one active key; a second one only during a rotation.", owasp="NHI7")
def key_multiple_active(obs, ctx):
    by_user = defaultdict(list)
    for k in _active(obs):
        by_user[k.user_arn].append(k)
    for user, keys in sorted(by_user.items()):
        if len(keys) > 1:
            yield Hit(subject=user, bot_id=keys[0].bot_id,
                      evidence={"user": user, "account": obs.account_id, "keys": [k.redacted for k in keys]})


@check(id="aws.root.access_keys", severity=Severity.CRITICAL, category=Category.HYGIENE,
       title="Root account has access keys",
       remediation="Delete the root user's access keys; use IAM roles for automation.", owasp="NHI4")
def root_access_keys(obs, ctx):
    if obs.root_keys:
        yield Hit(subject=f"arn:aws:iam::{obs.account_id}:root", evidence={"account": obs.account_id})


CHECKS = [user_static_keys, key_stale, key_unused, key_multiple_active, root_access_keys]
