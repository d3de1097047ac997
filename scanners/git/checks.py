"""Checks on git scan observations (one SecretLeak per secret, with its locations in every
repository): a leak on each bot that owns any of those repositories, and a leaked AWS key id that
matches an active IAM access key (facts published by the AWS probe).

Subjects hold stable identifiers only (secret fingerprint prefix, bot id, IAM user ARN), so renaming
a bot or a repository keeps the finding and its triage."""

from ..models import Category, Severity
from ..registry import Hit, check

FP_PREFIX = 24  # hex characters of the keyed secret fingerprint in a subject


def leak_subject(*, secret_fingerprint: str, bot_id: int | None) -> str:
    base = f"git:secret:{secret_fingerprint[:FP_PREFIX]}"
    return f"{base}@bot:{bot_id}" if bot_id else base


def aws_leak_subject(*, secret_fingerprint: str, user_arn: str) -> str:
    return f"git-aws:{secret_fingerprint[:FP_PREFIX]}:{user_arn}"


def leak_severity(leak) -> str:
    """info when even the best location is low confidence (shown, triaged, not scored); else critical
    while any location is still at the tip of its default branch, high when only in history."""
    if leak.confidence == "low":
        return Severity.INFO
    return Severity.CRITICAL if leak.still_at_head else Severity.HIGH


def _where(leak) -> str:
    first = leak.locations[0]
    if len(leak.locations) == 1:
        return f"{first.repository}/{first.file}"
    repos = len(leak.repository_ids)
    return f"{len(leak.locations)} places in {repos} repositor{'y' if repos == 1 else 'ies'}"


def leak_bot_ids(leak, fleet) -> list[int | None]:
    """Every bot owning a repository that holds the secret; [None] when no repository has an owner."""
    owners = {b for rid in leak.repository_ids for b in fleet.bot_ids_by_repository.get(rid, ())}
    return sorted(owners) or [None]


@check(
    id="git.secret.leaked", severity=Severity.HIGH, category=Category.LEAK,
    title="Secret committed to a git repository",
    remediation="Revoke and rotate the secret now (removing it from the file does not un-leak it: it "
                "stays in history), then move it to a secrets manager.",
    owasp="NHI2",
)
def secret_leaked(observations, ctx):
    for leak in observations:
        evidence = leak.evidence()
        rules = ", ".join(evidence["rule_ids"])
        title = f"{rules} secret in {_where(leak)}" + (" (still at a tip)" if leak.still_at_head else " (in history)")
        for bot_id in leak_bot_ids(leak, ctx.fleet):
            yield Hit(subject=leak_subject(secret_fingerprint=leak.secret_fingerprint, bot_id=bot_id),
                      bot_id=bot_id, evidence=evidence, severity=leak_severity(leak), title=title)


@check(
    id="git.secret.leaked_active_aws_key", severity=Severity.CRITICAL, category=Category.LEAK,
    title="Active AWS access key leaked in a git repository",
    remediation="Deactivate and delete the access key in IAM now, check CloudTrail for its use, and "
                "give the bot a role or a secrets-manager-held key instead.",
    owasp="NHI2",
)
def leaked_active_aws_key(observations, ctx):
    active = ctx.facts_for("aws").get("active_access_keys", {}) or {}
    if not active:
        return
    for leak in observations:
        key = active.get(leak.secret_fingerprint)
        if not key:
            continue
        user = key.get("user", "")
        evidence = leak.evidence()
        yield Hit(
            subject=aws_leak_subject(secret_fingerprint=leak.secret_fingerprint, user_arn=user),
            bot_id=key.get("bot_id"),
            evidence={**evidence, "iam_user": user, "access_key": key.get("redacted", evidence["redacted"])},
            title=f"Active AWS key of {user or '?'} leaked in {_where(leak)}",
        )


CHECKS = [secret_leaked, leaked_active_aws_key]
