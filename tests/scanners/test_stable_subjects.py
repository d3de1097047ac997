"""Renaming a bot, a credential and connectors keeps every finding's fingerprint, triage and
history: one audit with the inventory probe, a Vault probe (real OpenBao) and an AWS probe (moto)."""

import re

import pytest
from django.contrib.auth import get_user_model

from inventory.models import Bot, Connector, Credential, Identity
from scanners.models import Finding
from scanners.services.audit import audit_run_in_process
from scanners.services.findings import findings_triage
from tests.scanners.aws.conftest import REGION, aws, moto_url  # noqa: F401  (fixtures)
from tests.scanners.vault.conftest import bao, vault_fleet  # noqa: F401  (fixtures)

NAMES = {"pay-bot", "nobody-bot", "test-vault", "aws-test", "dotenv", "copy"}  # display names, not ids


def _aws_fleet(aws, bot, team):  # noqa: F811
    admin = aws.role("pay-admin", [{"Effect": "Allow", "Action": "*", "Resource": "*"}])
    secret = aws.secret("pay/api")
    Identity.objects.create(bot=bot, kind=Identity.Kind.AWS_IAM_ROLE, ref=admin)
    Identity.objects.create(bot=bot, kind=Identity.Kind.AWS_IAM_ROLE,
                            ref="arn:aws:iam::123456789012:role/pay-role-that-is-gone")
    Credential.objects.create(bot=bot, name="api", store=Credential.Store.AWS_SECRETSMANAGER, ref=secret,
                              rotation_days=90)
    Credential.objects.create(bot=bot, name="dotenv", store=Credential.Store.ENV_VAR, ref="PAY_TOKEN")
    Connector.objects.create(name="aws-test", kind="aws", options={"regions": [REGION], "endpoint_url": aws.url})
    ownerless = Bot.objects.create(name="nobody-bot", slug="nobody-bot", team=team, environment="production")
    Credential.objects.create(bot=ownerless, name="copy", store=Credential.Store.ENV_VAR, ref="PAY_TOKEN")


def _snapshot():
    return {f.pk: (f.check_id, f.fingerprint, f.status, f.status_reason, f.first_seen, f.bot_id)
            for f in Finding.objects.all()}


def _names_in_subjects():
    """Subjects with a display name as one of their parts (Vault/AWS object names may contain one)."""
    return [(f.check_id, f.subject) for f in Finding.objects.all() if NAMES & set(re.split(r"[:@/#]", f.subject))]


@pytest.mark.django_db
def test_renames_keep_fingerprints_triage_and_history(vault_fleet, aws, bao, monkeypatch):  # noqa: F811
    monkeypatch.setenv("VAULT_TOKEN", bao.root_token)  # the renamed connector has no VAULT_TOKEN_<NAME>
    pay = vault_fleet["pay-bot"]
    _aws_fleet(aws, pay, pay.team)
    first = audit_run_in_process(trigger="test")
    assert set(first.probe_runs.values_list("kind", "status")) == {("inventory", "ok"), ("vault", "ok"), ("aws", "ok")}
    mine = Finding.objects.filter(bot=pay)
    kinds = {f.check_id.split(".")[0] for f in mine}
    assert kinds == {"inventory", "vault", "aws"}, kinds
    assert _names_in_subjects() == []  # no bot, credential or connector name in any subject
    auditor = get_user_model().objects.create_user("aud@example.com", "aud@example.com")
    by_kind = {k: mine.filter(check_id__startswith=k + ".").order_by("pk") for k in kinds}
    acked = [by_kind["vault"][0].pk, by_kind["aws"][0].pk, by_kind["inventory"][0].pk]
    false_pos = [by_kind["vault"].last().pk, by_kind["aws"].last().pk,
                 Finding.objects.get(check_id="inventory.bot.no_owner").pk]
    findings_triage(finding_ids=acked, action="acknowledge", user=auditor, reason="known, ticket SEC-1")
    findings_triage(finding_ids=false_pos, action="false_positive", user=auditor, reason="by design")
    before = _snapshot()

    Bot.objects.filter(pk=pay.pk).update(name="payments-bot", slug="payments-bot")
    Bot.objects.filter(name="nobody-bot").update(name="orphan-bot", slug="orphan-bot")
    Credential.objects.filter(bot=pay, name="stripe").update(name="stripe-live")
    Credential.objects.filter(bot=pay, name="dotenv").update(name="dotenv-file")
    Connector.objects.filter(name="test-vault").update(name="vault-renamed")
    Connector.objects.filter(name="aws-test").update(name="aws-renamed")
    second = audit_run_in_process(trigger="test")

    assert set(second.probe_runs.values_list("kind", "status")) == {("inventory", "ok"), ("vault", "ok"),
                                                                     ("aws", "ok")}
    after = _snapshot()
    assert after == before  # same findings, same fingerprints, same triage and first_seen: nothing new
    assert Finding.objects.filter(pk__in=acked, status=Finding.Status.ACKNOWLEDGED).count() == 3
    assert Finding.objects.filter(pk__in=false_pos, status=Finding.Status.FALSE_POSITIVE).count() == 3
    assert Finding.objects.filter(resolved_at__isnull=False).count() == 0
    refreshed = Finding.objects.filter(pk__in=acked + false_pos, last_probe_run__audit_run=second).count()
    assert refreshed == 6  # seen again by the second audit, not merely left alone
    reads = Finding.objects.filter(check_id="vault.policy.reads_other_bots_secrets", bot_id=pay.pk).first()
    if reads is not None:
        assert reads.title.startswith("payments-bot ")  # display text follows the rename
