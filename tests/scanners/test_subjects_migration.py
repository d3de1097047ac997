"""Migration scanners 0006 re-keys name-bearing subjects (bots, credentials, the Vault connector) to
database ids; findings that collapse keep the most significant triage and the earliest first_seen,
with a merge record; ARN subjects and unknown shapes are left as they are."""

from datetime import timedelta

import pytest
from django.utils import timezone

from scanners.services.findings import finding_fingerprint
from tests.migrations_helpers import back_to_latest, migrate, migrate_latest  # noqa: F401 (autouse fixture)

BEFORE = [("scanners", "0005_explicit_task_names"), ("inventory", "0001_initial")]  # the inventory of that time
AFTER = [("scanners", "0006_stable_subjects")]


@pytest.mark.django_db(transaction=True)
def test_name_subjects_rekeyed_to_ids_and_collisions_merged():
    apps = migrate(BEFORE)
    Team, Bot = apps.get_model("inventory", "Team"), apps.get_model("inventory", "Bot")
    Credential, Connector = apps.get_model("inventory", "Credential"), apps.get_model("inventory", "Connector")
    Finding, AuditLogEntry = apps.get_model("scanners", "Finding"), apps.get_model("inventory", "AuditLogEntry")
    team = Team.objects.create(name="payments", slug="payments")
    bot = Bot.objects.create(name="invoice-bot", slug="invoice-bot", team=team)
    other = Bot.objects.create(name="ledger-bot", slug="ledger-bot", team=team)
    cred = Credential.objects.create(bot=bot, name="stripe", store="env_var", ref="STRIPE")
    vault = Connector.objects.create(name="vault-prod", kind="vault")
    aws = Connector.objects.create(name="aws-prod", kind="aws")
    now = timezone.now()
    made = {}

    def old(key, check_id, subject, *, scope="inventory", status="open", days=0, evidence=None, bot_=bot):
        made[key] = Finding.objects.create(
            check_id=check_id, severity="medium", category="hygiene", title=key, bot=bot_, subject=subject,
            evidence=evidence or {}, scope=scope, status=status, status_reason=f"{status} by hand",
            fingerprint=finding_fingerprint(check_id=check_id, subject=subject),
            first_seen=now - timedelta(days=days), last_seen=now - timedelta(days=days)).pk

    vs, aws_scope = f"connector:{vault.pk}", f"connector:{aws.pk}"
    old("cred", "inventory.credential.outside_secrets_manager", "credential:invoice-bot/stripe",
        evidence={"credential": "stripe"}, status="acknowledged")
    old("owner", "inventory.bot.no_owner", "bot:invoice-bot", status="false_positive", days=9)
    old("owner-new", "inventory.bot.no_owner", f"bot:{bot.pk}", days=1)  # seen after a rename: merged
    old("shared", "inventory.credential.shared_across_environments", "shared:env_var:STRIPE@invoice-bot")
    old("missing", "aws.inventory.missing", "missing:aws_iam_role:arn:aws:iam::1:role/x@invoice-bot",
        scope=aws_scope)
    old("arn", "aws.policy.admin", "arn:aws:iam::1:role/admin", scope=aws_scope)
    old("audit", "vault.audit.disabled", "vault:vault-prod:audit", scope=vs, bot_=None)
    old("token", "vault.token.root", "vault:old-name:token:abc123", scope=vs)  # renamed before the migration
    old("policy", "vault.policy.sudo", "vault:vault-prod:policy:ops:sudo@invoice-bot", scope=vs)
    old("reads", "vault.policy.reads_other_bots_secrets", "vault:vault-prod:reads:invoice-bot:ledger-bot",
        scope=vs, evidence={"other_bot": "ledger-bot"})
    old("gone", "inventory.credential.no_rotation_policy", "credential:invoice-bot/deleted",
        evidence={"credential": "deleted"})
    old("git", "git.secret.leaked", "git:repo:rule:file:abc@invoice-bot")

    apps = migrate(AFTER)
    Finding, AuditLogEntry = apps.get_model("scanners", "Finding"), apps.get_model("inventory", "AuditLogEntry")
    expected = {
        "cred": f"credential:{cred.pk}",
        "shared": f"shared:env_var:STRIPE@bot:{bot.pk}",
        "missing": f"missing:aws_iam_role:arn:aws:iam::1:role/x@bot:{bot.pk}",
        "arn": "arn:aws:iam::1:role/admin",
        "audit": f"vault:connector-{vault.pk}:audit",
        "token": f"vault:connector-{vault.pk}:token:abc123",
        "policy": f"vault:connector-{vault.pk}:policy:ops:sudo@bot:{bot.pk}",
        "reads": f"vault:connector-{vault.pk}:reads:bot:{bot.pk}:bot:{other.pk}",
        "gone": "credential:invoice-bot/deleted",
        "git": "git:repo:rule:file:abc@invoice-bot",
    }
    for key, subject in expected.items():
        f = Finding.objects.get(pk=made[key])
        assert (f.subject, f.fingerprint) == (subject, finding_fingerprint(check_id=f.check_id, subject=subject)), key
    assert Finding.objects.get(pk=made["cred"]).status == "acknowledged"
    owner = Finding.objects.get(check_id="inventory.bot.no_owner")  # the two collapsed into one
    assert owner.pk == made["owner"] and owner.subject == f"bot:{bot.pk}"
    assert (owner.status, owner.status_reason) == ("false_positive", "false_positive by hand")
    assert owner.first_seen == now - timedelta(days=9) and owner.last_seen == now - timedelta(days=1)
    assert not Finding.objects.filter(pk=made["owner-new"]).exists()
    merge = AuditLogEntry.objects.get(action="finding.merge")
    assert merge.detail["into"] == owner.pk and [m["id"] for m in merge.detail["merged"]] == [made["owner-new"]]
    assert Finding.objects.count() == len(made) - 1
