"""Match principals and secrets to bots: manifest refs first, then the BOTAUDIT_BOT_TAG tag, else
unowned (bot = None, still reported)."""

from __future__ import annotations

import re

from django.conf import settings

from inventory.models import Bot, Credential, Identity

from .data_stores import data_stores_from_refs
from .model import AwsObservations

_SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")
_IAM_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):(user|role)/(?:.*/)?([^/]+)$")


def secret_base(arn: str) -> str:
    """A secret ARN without the random 6-character suffix AWS appends."""
    return _SECRET_SUFFIX.sub("", arn)


def secret_index(secrets) -> dict[str, object]:
    index = {}
    for s in secrets:
        index.setdefault(s.name, s)
        index.setdefault(secret_base(s.arn), s)
    for s in secrets:
        index[s.arn] = s
    return index


def secret_for_ref(ref: str, index: dict):
    """The observed secret a manifest ref names: exact ARN, ARN without the suffix, or name."""
    ref = ref.strip()
    return index.get(ref) or (index.get(secret_base(ref)) if ref.startswith("arn:") else None)


def principal_key(ref: str) -> tuple[str, str, str] | None:
    """(account, kind, name) of an IAM user/role ref: an ARN (path ignored) or a bare name."""
    m = _IAM_ARN.match(ref.strip())
    if m:
        return m.group(1), m.group(2), m.group(3)
    return None


def ref_in_account(ref: str, account_id: str) -> bool:
    m = re.match(r"^arn:aws[\w-]*:[\w-]+:[\w-]*:(\d{12}):", ref.strip())
    return m is None or m.group(1) == account_id


def _tag_owner(tags: dict, fleet) -> int | None:
    name = tags.get(settings.BOTAUDIT_BOT_TAG)
    bot = fleet.bot_by_name(name) if name else None
    return bot.pk if bot else None


IDENTITY_KINDS = {Identity.Kind.AWS_IAM_USER: "user", Identity.Kind.AWS_IAM_ROLE: "role"}


def observations_attribute(obs: AwsObservations, fleet) -> dict[int, object]:
    """Set bot_id on principals, keys and secrets, and list the data stores (S3, SSM, DynamoDB,
    KMS ARNs) that credential refs attribute to bots. Returns {credential_id: Secret} for the
    aws_secretsmanager credentials whose ref matched an observed secret."""
    obs.data_stores = data_stores_from_refs(((c.ref, c.bot_id) for c in fleet.credentials),
                                            account_id=obs.account_id)
    by_key = {(obs.account_id, p.kind, p.name): p for p in obs.principals}
    by_arn = {p.arn: p for p in obs.principals}
    for ident in fleet.identities:
        kind = IDENTITY_KINDS.get(ident.kind)
        bot = fleet.bots.get(ident.bot_id)
        if not kind or bot is None:
            continue
        p = by_arn.get(ident.ref.strip())
        if p is None:
            key = principal_key(ident.ref)
            p = by_key.get(key) if key and key[1] == kind else None
        if p is not None and p.kind == kind and (p.bot_id is None or bot.status == Bot.Status.ACTIVE):
            p.bot_id, p.owner_via = bot.pk, "manifest"
    for p in obs.principals:
        if p.bot_id is None:
            p.bot_id = _tag_owner(p.tags, fleet)
            p.owner_via = "tag" if p.bot_id else ""
    owners = {p.arn: p.bot_id for p in obs.principals}
    for k in obs.keys:
        k.bot_id = owners.get(k.user_arn)

    everything = [*obs.secrets, *obs.listed_secrets]
    index = secret_index(everything)
    checked = {id(s) for s in obs.secrets}
    matched = {}
    for cred in fleet.credentials_in(Credential.Store.AWS_SECRETSMANAGER):
        secret = secret_for_ref(cred.ref, index) if cred.ref else None
        if secret is None:
            continue
        if id(secret) in checked:  # listed-only secrets are dated by their region unit
            matched[cred.pk] = secret
        secret.credential_ids.append(cred.pk)
        if secret.owner_via != "manifest":
            secret.bot_id, secret.owner_via = cred.bot_id, "manifest"
    for s in everything:
        if s.bot_id is None:
            s.bot_id = _tag_owner(s.tags, fleet)
            s.owner_via = "tag" if s.bot_id else ""
    return matched
