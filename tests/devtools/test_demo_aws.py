"""The demo seeder builds an account for whatever fleet is in the database, twice without harm."""

from devtools.demo_aws import aws_demo_seed
from inventory.models import Bot, Connector, Credential, Identity, Team
from scanners.models import Finding, ProbeRun
from scanners.services.audit import audit_run_in_process
from tests.helpers import units_view

ACCOUNT = "123456789012"


def _fleet(url):
    team = Team.objects.create(name="ops", slug="ops")
    Connector.objects.create(name="demo-aws", kind="aws", options={"regions": ["us-east-1"], "endpoint_url": url})
    for n in range(5):
        bot = Bot.objects.create(name=f"bot{n}", slug=f"bot{n}", team=team, owner_email="o@example.com")
        Identity.objects.create(bot=bot, kind="aws_iam_role", ref=f"arn:aws:iam::{ACCOUNT}:role/bot{n}")
        Credential.objects.create(bot=bot, name="s", store="aws_secretsmanager", rotation_days=90,
                                  ref=f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:ops/bot{n}-AbC123")
    user_bot = Bot.objects.create(name="keybot", slug="keybot", team=team, owner_email="o@example.com")
    Identity.objects.create(bot=user_bot, kind="aws_iam_user", ref=f"arn:aws:iam::{ACCOUNT}:user/keybot")


def test_demo_seed_is_idempotent_and_plants_findings(db, aws):
    _fleet(aws.url)
    first, second = aws_demo_seed(), aws_demo_seed()
    assert first.startswith("aws demo: 5 roles, 1 users, 4 secrets") and "left out" in first
    assert second.startswith("aws demo: 5 roles")
    assert len(aws.iam.list_access_keys(UserName="keybot")["AccessKeyMetadata"]) == 2  # not 4
    probe = units_view(audit_run_in_process(connector_names=["demo-aws"]), kind="aws")
    assert probe.status == ProbeRun.Status.OK, probe.error
    checks = set(Finding.objects.values_list("check_id", flat=True))
    for check_id in ("aws.policy.admin", "aws.policy.privilege_escalation", "aws.policy.reads_other_bots_secrets",
                     "aws.role.trust_any_principal", "aws.secret.public_policy", "aws.secret.rotation_disabled",
                     "aws.inventory.unowned", "aws.inventory.missing", "aws.key.multiple_active"):
        assert check_id in checks, check_id
    assert not Finding.objects.filter(subject=f"arn:aws:iam::{ACCOUNT}:role/bot4").exists()  # least privilege


def test_demo_seed_skips_without_a_loopback_connector(db):
    Connector.objects.create(name="prod", kind="aws", options={"regions": ["us-east-1"]})
    assert "skipped" in aws_demo_seed()
