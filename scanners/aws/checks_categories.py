"""Checks on categories of actions a principal may use on `*` (Cloudsplaining's risk categories,
from policy_sentry's access levels): data exfiltration (also on other bots' data stores),
resource exposure, infrastructure modification. Conditional grants are reported one severity lower."""

from __future__ import annotations

from functools import lru_cache
from itertools import groupby

from ..models import Category, Severity
from ..registry import Hit, check
from .categories import data_reads, infrastructure_modification, resource_exposure
from .checks_policy import LOWER, _principals, _who, category_hit, category_run
from .data_stores import MAX_SHOWN, other_bots_reads

EXAMPLES_PER_SERVICE = 5
SERVICES_SHOWN = 40


@lru_cache(maxsize=64)  # admins share the same action sets
def _grouped(ordered: tuple[str, ...]) -> dict:
    """Actions (sorted) per service: the count and the first few, largest services first."""
    groups = [(svc, list(acts)) for svc, acts in groupby(ordered, key=lambda a: a.split(":", 1)[0])]
    shown = sorted(groups, key=lambda kv: (-len(kv[1]), kv[0]))[:SERVICES_SHOWN]
    return {"by_service": {svc: {"count": len(acts), "examples": acts[:EXAMPLES_PER_SERVICE]} for svc, acts in shown},
            "services": len(groups)}


@check(id="aws.policy.data_exfiltration", severity=Severity.HIGH, category=Category.OVER_BROAD_ACCESS,
       title="Principal can read data stores on any resource or of other bots",
       remediation="Scope s3:GetObject, ssm:GetParameter*, dynamodb reads and kms:Decrypt to the bot's own buckets, "
                   "parameters, tables and keys.", owasp="NHI5")
def policy_data_exfiltration(obs, ctx):
    """Data reads on `*` (category_hit), and reads of the S3 objects, SSM parameters, DynamoDB
    tables and KMS keys the inventory attributes to other bots (data_stores.py), in one finding per
    principal: high when some read is certain, one step lower when only conditional grants allow them."""
    bot_name = _bot_namer(ctx)
    for p in _principals(obs):
        hit = category_hit(p, data_reads(), severity=Severity.HIGH)
        others = other_bots_reads(p, obs.data_stores, bot_name=bot_name) if obs.data_stores else []
        if not others:
            if hit:
                yield hit
            continue
        certain = any(not o["conditional"] for o in others)
        if hit is None:
            hit = Hit(subject=p.arn, bot_id=p.bot_id, evidence={**_who(p), "conditional": not certain},
                      severity=None if certain else LOWER[Severity.HIGH])
        elif certain:
            hit.severity, hit.evidence["conditional"] = None, False
        hit.evidence.update(other_bots=others[:MAX_SHOWN], other_bots_count=len(others))
        yield hit


def _bot_namer(ctx):
    bots = ctx.fleet.bots if ctx is not None and getattr(ctx, "fleet", None) is not None else {}
    return lambda bot_id: bots[bot_id].name if bot_id in bots else str(bot_id)

policy_resource_exposure = check(
    id="aws.policy.resource_exposure", severity=Severity.HIGH, category=Category.OVER_BROAD_ACCESS,
    title="Principal can open any resource to others (permissions management on *)",
    remediation="Remove resource-policy and trust-policy writes (s3:PutBucketPolicy, kms:PutKeyPolicy, "
                "lambda:AddPermission, iam:UpdateAssumeRolePolicy...) or scope them to the bot's own resources.",
    owasp="NHI5",
)(category_run(resource_exposure, severity=Severity.HIGH, extra=_grouped))

policy_infrastructure_modification = check(
    id="aws.policy.infrastructure_modification", severity=Severity.MEDIUM, category=Category.OVER_BROAD_ACCESS,
    title="Principal can create, change or destroy infrastructure on any resource",
    remediation="Scope write actions (ec2:RunInstances, ec2:TerminateInstances, s3:DeleteBucket, "
                "rds:DeleteDBInstance...) to the resources the bot manages, by ARN or tag condition.",
    owasp="NHI5",
)(category_run(infrastructure_modification, severity=Severity.MEDIUM, extra=_grouped))


CHECKS = [policy_data_exfiltration, policy_resource_exposure, policy_infrastructure_modification]
