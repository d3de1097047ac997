"""The Vault probe end to end against the session OpenBao dev server."""

from datetime import timedelta

import hvac
import pytest
from django.utils import timezone
from freezegun import freeze_time

from inventory.models import Connector, Credential
from scanners.models import Finding, ProbeRun
from scanners.services.audit import audit_run_in_process
from scanners.subjects import bot_key, connector_key

from .scenario import CLEAN_BOTS

pytestmark = pytest.mark.django_db


def _vault_findings():
    return list(Finding.objects.filter(check_id__startswith="vault.").select_related("bot"))


def _by_check(findings):
    result = {}
    for f in findings:
        result.setdefault(f.check_id, set()).add(f.bot.name if f.bot else None)
    return result


def test_audit_finds_each_seeded_problem_on_the_right_bot(vault_fleet, bao):
    run = audit_run_in_process(connector_names=["test-vault"])
    probe = run.probe_runs.get(kind="vault")
    assert probe.status == ProbeRun.Status.OK, probe.error
    assert probe.api_calls == probe.counts["http_requests"] > 20
    assert probe.counts["kv_secrets"] == 6
    found = _by_check(_vault_findings())
    assert found["vault.audit.disabled"] == {None}
    assert found["vault.token.root"] == {None, "rooty-bot"}  # the dev root token is nobody's
    assert found["vault.token.long_ttl"] >= {"ops-bot"}
    assert found["vault.policy.wildcard"] == {"ops-bot", "rooty-bot"}
    assert found["vault.policy.sudo"] == {"ops-bot", "rooty-bot"}
    assert found["vault.policy.reads_other_bots_secrets"] == {"pay-bot", "ops-bot", "rooty-bot"}
    assert found["vault.approle.secret_id_no_ttl"] == {"pay-bot"}
    assert found["vault.approle.unbound"] == {"pay-bot"}
    assert found["vault.kv.unowned"] == {None}
    assert found["vault.inventory.missing"] == {"pay-bot", "ghost-bot"}
    assert "vault.kv.not_rotated" not in found  # everything was written a moment ago
    assert "vault.token.no_expiry" not in found  # OpenBao gives every non-root token an expiry


def test_clean_bots_trigger_nothing(vault_fleet):
    audit_run_in_process(connector_names=["test-vault"])
    names = {f.bot.name for f in _vault_findings() if f.bot}
    assert names.isdisjoint(CLEAN_BOTS)
    assert names  # ... while the others do have findings


def test_evidence_names_paths_and_the_other_bot(vault_fleet):
    audit_run_in_process(connector_names=["test-vault"])
    reads = Finding.objects.get(check_id="vault.policy.reads_other_bots_secrets", bot__name="pay-bot")
    assert reads.evidence["other_bot"] == "ledger-bot"
    assert reads.evidence["secrets"] == ["secret/payments/ledger"]
    unowned = {f.evidence["path"] for f in Finding.objects.filter(check_id="vault.kv.unowned")}
    assert unowned == {"secret/misc/orphaned", "secret/deep/a/b/c/leaf"}  # recursive listing
    missing = {f.evidence["ref"] for f in Finding.objects.filter(check_id="vault.inventory.missing")}
    assert missing == {"secret/payments/missing-one", "ghost-role"}
    wildcard = Finding.objects.get(check_id="vault.policy.wildcard", bot__name="ops-bot")
    assert wildcard.evidence["path"] == "secret/*" and wildcard.subject == (
        f"vault:{connector_key(wildcard.last_probe_run.connector_id)}:policy:ops-admin:secret/*@{bot_key(wildcard.bot_id)}")


def test_credential_dates_are_recorded_from_kv_metadata(vault_fleet, bao):
    audit_run_in_process(connector_names=["test-vault"])
    meta = bao.client().secrets.kv.v2.read_secret_metadata("payments/stripe", mount_point="secret")["data"]
    cred = Credential.objects.get(name="stripe")
    assert cred.created_at is not None and cred.observed_at is not None
    assert cred.created_at.isoformat()[:19] == meta["created_time"][:19]
    assert cred.last_rotated_at.isoformat()[:19] == meta["updated_time"][:19]
    assert Credential.objects.get(name="gone").created_at is None


def test_not_rotated_uses_the_credentials_rotation_days(vault_fleet):
    # clean-bot's credential rotates every 30 days, everything else uses the default of 90
    with freeze_time(timezone.now() + timedelta(days=45), tick=True):
        audit_run_in_process(connector_names=["test-vault"])
    stale = {f.evidence["path"]: f for f in Finding.objects.filter(check_id="vault.kv.not_rotated")}
    assert set(stale) == {"secret/clean/clean-bot"}
    assert stale["secret/clean/clean-bot"].evidence["rotation_days"] == 30
    assert stale["secret/clean/clean-bot"].bot.name == "clean-bot"
    with freeze_time(timezone.now() + timedelta(days=95), tick=True):
        audit_run_in_process(connector_names=["test-vault"])
    assert Finding.objects.filter(check_id="vault.kv.not_rotated", status="open").count() == 6


def test_rerun_is_stable_and_resolves_what_went_away(vault_fleet, bao):
    audit_run_in_process(connector_names=["test-vault"])
    first = {f.fingerprint for f in _vault_findings()}
    audit_run_in_process(connector_names=["test-vault"])
    assert {f.fingerprint for f in _vault_findings()} == first
    client = bao.client()
    client.secrets.kv.v2.create_or_update_secret(path="payments/missing-one", secret={"k": "v"}, mount_point="secret")
    try:
        audit_run_in_process(connector_names=["test-vault"])
        gone = Finding.objects.get(check_id="vault.inventory.missing", bot__name="pay-bot")
        assert gone.status == Finding.Status.RESOLVED
    finally:
        client.secrets.kv.v2.delete_metadata_and_all_versions(path="payments/missing-one", mount_point="secret")


def test_a_shared_secret_is_not_another_bots_secret(vault_fleet):
    # manifest refs win over custom_metadata, and a secret several bots declare belongs to each of them
    for name in ("pay-bot", "ledger-bot"):
        Credential.objects.create(bot=vault_fleet[name], name="ledger", store="vault_kv",
                                  ref="secret/payments/ledger", rotation_days=90)
    audit_run_in_process(connector_names=["test-vault"])
    assert not Finding.objects.filter(check_id="vault.policy.reads_other_bots_secrets", bot__name="pay-bot").exists()
    ops = Finding.objects.filter(check_id="vault.policy.reads_other_bots_secrets", bot__name="ops-bot")
    by_other = {f.evidence["other_bot"]: f.evidence["secrets"] for f in ops}
    assert "secret/payments/ledger" in by_other["pay-bot"] and "secret/payments/ledger" in by_other["ledger-bot"]


def test_detailed_metadata_listing_and_per_secret_reads_agree(vault_fleet, bao, monkeypatch):
    from scanners.context import ProbeContext
    from scanners.vault.collect import collect

    conn = Connector.objects.get(name="test-vault")
    ctx = ProbeContext.build()
    detailed = collect(conn, ctx)  # root: OpenBao's LIST detailed-metadata, one request per folder
    monkeypatch.setenv("VAULT_TOKEN_TEST_VAULT", bao.seeded["limited_token"])
    per_secret = collect(conn, ctx)  # no access to detailed-metadata: LIST metadata + a read per secret

    def view(collected):
        return [(s.ref, s.created_time, s.updated_time, s.versions, s.custom_metadata)
                for s in collected.observations.kv]

    assert view(detailed) == view(per_secret)
    assert len(view(detailed)) == 6
    assert not [e for e in per_secret.errors if e.startswith("kv")]


def test_namespace_option_scopes_the_probe(vault_fleet, bao):
    client = bao.client()
    if "team-ns/" not in _namespaces(client):
        client.sys.create_namespace("team-ns")
    ns = hvac.Client(url=bao.url, token=bao.root_token, namespace="team-ns")
    if "secret/" not in ns.sys.list_mounted_secrets_engines()["data"]:
        ns.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
    ns.secrets.kv.v2.create_or_update_secret(path="only/here", secret={"v": "x"}, mount_point="secret")
    conn = Connector.objects.get(name="test-vault")
    conn.options = {**conn.options, "namespace": "team-ns"}
    conn.save()
    probe = audit_run_in_process(connector_names=["test-vault"]).probe_runs.get(kind="vault")
    assert probe.status == ProbeRun.Status.OK, probe.error
    assert probe.counts["kv_secrets"] == 1
    unowned = Finding.objects.get(check_id="vault.kv.unowned", last_probe_run=probe)
    assert unowned.evidence["path"] == "secret/only/here"


def _namespaces(client):
    try:
        return client.sys.list_namespaces()["data"]["keys"]
    except hvac.exceptions.InvalidPath:
        return []
