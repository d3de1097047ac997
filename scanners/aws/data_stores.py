"""Data stores of bots (S3 buckets and object prefixes, SSM parameters, DynamoDB tables, KMS keys)
as the inventory names them: any credential whose ref is such an ARN attributes that resource to
the credential's bot. Nothing here is observed in AWS or read from it; `other_bots_reads` says which
of other bots' data stores a principal may read, for aws.policy.data_exfiltration (secrets keep
aws.policy.reads_other_bots_secrets)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

# The reads that return a store's data, per kind of store (categories.DATA_READS holds all of them).
STORE_READS = {
    "s3": ("s3:getobject", "s3:getobjectversion"),
    "ssm": ("ssm:getparameter", "ssm:getparameters", "ssm:getparametersbypath", "ssm:getparameterhistory"),
    "dynamodb": ("dynamodb:scan", "dynamodb:query", "dynamodb:getitem", "dynamodb:batchgetitem",
                 "dynamodb:partiqlselect", "dynamodb:exporttabletopointintime"),
    "kms": ("kms:decrypt",),
}
_ARN = {
    "s3": re.compile(r"^arn:aws[\w-]*:s3:::(?P<bucket>[a-z0-9][a-z0-9.\-]{1,62})(?P<key>/.*)?$"),
    "ssm": re.compile(r"^arn:aws[\w-]*:ssm:[a-z0-9-]+:(?P<account>\d{12}):parameter/.+$"),
    "dynamodb": re.compile(r"^arn:aws[\w-]*:dynamodb:[a-z0-9-]+:(?P<account>\d{12}):table/[^/]+$"),
    "kms": re.compile(r"^arn:aws[\w-]*:kms:[a-z0-9-]+:(?P<account>\d{12}):(key|alias)/.+$"),
}
MAX_SHOWN = 50


@dataclass(frozen=True)
class DataStore:
    arn: str  # as the inventory ref names it
    kind: str  # s3 | ssm | dynamodb | kms
    bot_ids: frozenset[int]  # every bot whose credentials name it (shared stores belong to each)
    resources: tuple[str, ...]  # what the reads are checked on (a bucket: every object in it)


def data_store_parse(ref: str) -> tuple[str, tuple[str, ...], str | None] | None:
    """(kind, resources to check, account or None for S3) of a data-store ARN, else None."""
    ref = ref.strip()
    for kind, pattern in _ARN.items():
        m = pattern.match(ref)
        if m is None:
            continue
        if kind == "s3":
            resources = (ref,) if m.group("key") else (f"{ref}/*",)  # a bucket: the reads are on its objects
            return kind, resources, None
        return kind, (ref,), m.group("account")
    return None


def data_stores_from_refs(refs: Iterable[tuple[str, int]], *, account_id: str) -> list[DataStore]:
    """The data stores named by (ref, bot id) pairs, in `account_id` (S3 ARNs name no account)."""
    owners: dict[str, set[int]] = defaultdict(set)
    parsed = {}
    for ref, bot_id in refs:
        found = data_store_parse(ref or "")
        if found is None or (found[2] is not None and found[2] != account_id):
            continue
        arn = ref.strip()
        owners[arn].add(bot_id)
        parsed[arn] = found
    return [DataStore(arn=arn, kind=parsed[arn][0], bot_ids=frozenset(bots), resources=parsed[arn][1])
            for arn, bots in sorted(owners.items())]


def other_bots_reads(p, stores: Iterable[DataStore], *, bot_name=None) -> list[dict]:
    """Other bots' data stores `p` may read through statements that name resources (a grant on `*`
    is the on-any-resource half of the check), each with the actions, whether only conditional
    statements allow them, and those statements."""
    out = []
    for store in stores:
        if p.bot_id is None or p.bot_id in store.bot_ids:
            continue
        actions, grants = [], {}
        for action in STORE_READS[store.kind]:
            if action not in p.permissions.anywhere:
                continue
            found = [g for resource in store.resources for g in p.permissions.grants_on(action, resource)
                     if "*" not in g.statement.resources]
            if found:
                actions.append(action)
                grants.update({(g.statement.policy, g.statement.sid): g for g in found})
        if actions:
            certain = any(not g.conditional for g in grants.values())
            out.append({"resource": store.arn, "kind": store.kind, "actions": actions, "conditional": not certain,
                        "bots": sorted(bot_name(b) if bot_name else b for b in store.bot_ids),
                        "statements": [g.describe() for g in grants.values()][:3]})
    return out
