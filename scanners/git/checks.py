"""Checks on git scan observations: leaks attributed to the bots that own the repository, and
leaked AWS key ids that match an active IAM access key (facts published by the AWS probe)."""

from ..models import Category, Severity
from ..registry import Hit, check


def _evidence(repo, leak) -> dict:
    return {
        "repository": repo.name, "file": leak.file, "line": leak.line, "rule_id": leak.rule_id,
        "commit": leak.commit, "commit_date": leak.commit_date, "still_at_head": leak.still_at_head,
        "redacted": leak.redacted, "secret_fingerprint": leak.secret_fingerprint,
    }


@check(
    id="git.secret.leaked", severity=Severity.HIGH, category=Category.LEAK,
    title="Secret committed to a git repository",
    remediation="Revoke and rotate the secret now (removing it from the file does not un-leak it: it "
                "stays in history), then move it to a secrets manager.",
    owasp="NHI2",
)
def secret_leaked(observations, ctx):
    for repo in observations:
        bot_ids = ctx.fleet.bot_ids_by_repository.get(repo.pk) or [None]
        for leak in repo.leaks:
            base = f"git:{repo.name}:{leak.rule_id}:{leak.file}:{leak.secret_fingerprint[:24]}"
            for bot_id in bot_ids:
                bot = ctx.fleet.bots.get(bot_id)
                yield Hit(
                    subject=f"{base}@{bot.name}" if bot else base, bot_id=bot_id,
                    evidence=_evidence(repo, leak),
                    severity=Severity.CRITICAL if leak.still_at_head else None,
                    title=f"{leak.rule_id} secret in {repo.name}/{leak.file}"
                          + (" (still at the tip)" if leak.still_at_head else " (in history)"),
                )


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
    for repo in observations:
        for leak in repo.leaks:
            key = active.get(leak.secret_fingerprint)
            if leak.rule_id != "aws-access-token" or not key:
                continue
            yield Hit(
                subject=f"git-aws:{repo.name}:{leak.file}:{leak.secret_fingerprint[:24]}",
                bot_id=key.get("bot_id"),
                evidence={**_evidence(repo, leak), "iam_user": key.get("user", ""),
                          "access_key": key.get("redacted", leak.redacted)},
                title=f"Active AWS key of {key.get('user', '?')} leaked in {repo.name}/{leak.file}",
            )


CHECKS = [secret_leaked, leaked_active_aws_key]
