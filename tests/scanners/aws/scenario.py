"""A small account that triggers every aws check, with clean principals that trigger none."""

from datetime import UTC, datetime, timedelta

from freezegun import freeze_time

from inventory.models import Identity

from .conftest import ACCOUNT, REGION

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OUTSIDE = "999988887777"  # an account outside the audited one
CANARY = "canary-SECRET-value-7f3a9c"  # noqa: S105 - a planted value that must never show up


def iam_arn(kind, name):
    return f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"


def seed(aws, make_bot, make_credential):
    """Returns a dict of what was created; bots are in the DB. Old things are created 200 days
    before NOW, fresh ones 5 days before (moto runs in-process, so freezegun dates them)."""
    s = {}
    bots = {n: make_bot(n) for n in ("admin-bot", "deny-bot", "escalate-bot", "reader-bot", "legacy-bot",
                                     "clean-bot", "ghost-bot", "tagged-bot")}
    s["bots"] = bots
    with freeze_time(NOW - timedelta(days=200)):
        s["admin_secret"] = aws.secret("admin/db", value=CANARY)
        _, s["legacy_keys"] = aws.user("legacy-bot", keys=1)
    with freeze_time(NOW - timedelta(days=100)):
        s["legacy_keys"] += aws.iam.create_access_key(UserName="legacy-bot")["AccessKey"],
    with freeze_time(NOW - timedelta(days=5)):
        s["admin_role"] = aws.role("admin-bot", [{"Effect": "Allow", "Action": "*", "Resource": "*"}])
        s["deny_role"] = aws.role("deny-bot", [
            {"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "NothingAtAll", "Effect": "Deny", "Action": "*", "Resource": "*"}])
        s["escalate_role"] = aws.role("escalate-bot", [
            {"Sid": "Esc", "Effect": "Allow", "Action": ["iam:CreatePolicyVersion", "iam:PassRole", "ec2:Run*"],
             "Resource": "*"},
            {"Sid": "Bucket", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}])
        s["clean_secret"] = aws.secret("clean/db", rotate_days=30)
        s["clean_role"] = aws.role("clean-bot", [
            {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
             "Resource": s["clean_secret"]},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::clean-bucket/*"}])
        s["reader_role"] = aws.role("reader-bot", [
            {"Sid": "ReadClean", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
             "Resource": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:clean/*"}])
        s["open_role"] = aws.role("open-role", tags={"bot": "tagged-bot"}, trust={
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
        s["partner_role"] = aws.role("partner-role", tags={"bot": "tagged-bot"}, trust={
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OUTSIDE}:root"},
                           "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "x1"}}}]})
        s["public_secret"] = aws.secret("tagged/api", tags={"bot": "tagged-bot"}, rotate_days=30, policy={
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue",
                           "Resource": "*"}]})
        s["orphan_secret"] = aws.secret("nobody/knows", rotate_days=30)
        s["orphan_user"], _ = aws.user("orphan-user")
    from moto.iam.models import iam_backends

    iam_backends[ACCOUNT]["aws"].account_summary._account_access_keys_present = 1  # moto has no API to create root keys

    for name, kind in (("admin-bot", "role"), ("deny-bot", "role"), ("escalate-bot", "role"),
                       ("reader-bot", "role"), ("clean-bot", "role"), ("legacy-bot", "user")):
        Identity.objects.create(bot=bots[name], kind=f"aws_iam_{kind}", ref=iam_arn(kind, name))
    Identity.objects.create(bot=bots["ghost-bot"], kind="aws_iam_role", ref=iam_arn("role", "ghost-bot"))
    s["admin_cred"] = make_credential(bots["admin-bot"], "db", ref=s["admin_secret"][:-7] + "-AbCdEf",
                                      rotation_days=90)
    s["clean_cred"] = make_credential(bots["clean-bot"], "db", ref=s["clean_secret"], rotation_days=30)
    s["ghost_cred"] = make_credential(
        bots["ghost-bot"], "token", ref=f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ghost/token-Zz9Zz9")
    return s


def expected(s):
    """{check_id: {subject, ...}} the scenario must produce, and nothing else."""
    legacy = iam_arn("user", "legacy-bot")
    return {
        "aws.policy.admin": {s["admin_role"]},
        "aws.policy.privilege_escalation": {s["admin_role"], s["escalate_role"]},
        "aws.policy.service_wildcard": {s["escalate_role"]},
        "aws.policy.credentials_exposure": {s["admin_role"]},
        "aws.policy.reads_other_bots_secrets": {s["admin_role"], s["reader_role"]},
        "aws.role.trust_any_principal": {s["open_role"]},
        "aws.role.trust_cross_account": {s["partner_role"]},
        "aws.policy.data_exfiltration": {s["admin_role"], s["escalate_role"]},
        "aws.policy.resource_exposure": {s["admin_role"], s["escalate_role"]},
        "aws.policy.infrastructure_modification": {s["admin_role"], s["escalate_role"]},
        "aws.user.static_keys": {legacy},
        "aws.key.stale": "2 keys of legacy-bot",
        "aws.key.unused": "2 keys of legacy-bot",
        "aws.key.multiple_active": {legacy},
        "aws.root.access_keys": {f"arn:aws:iam::{ACCOUNT}:root"},
        "aws.secret.rotation_disabled": {s["admin_secret"]},
        "aws.secret.not_rotated": {s["admin_secret"]},
        "aws.secret.unused": {s["admin_secret"], s["public_secret"], s["orphan_secret"]},
        "aws.secret.public_policy": {s["public_secret"]},
        "aws.inventory.missing": {
            f"missing:aws_iam_role:{iam_arn('role', 'ghost-bot')}@ghost-bot",
            f"missing:aws_secretsmanager:arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ghost/token-Zz9Zz9@ghost-bot"},
        "aws.inventory.unowned": {s["orphan_secret"], s["orphan_user"]},
    }
