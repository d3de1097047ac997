"""The read-only policy the README recommends is enough for an `ok` probe, and grants no value."""

from pathlib import Path

import pytest

from scanners.models import ProbeRun
from scanners.services.audit import audit_run_in_process
from scanners.vault.policy import Acl, kv_data_path, policy_parse

POLICY = Path(__file__).resolve().parents[3] / "docs" / "vault-probe-policy.hcl"


@pytest.mark.django_db
def test_recommended_policy_gives_an_ok_probe(vault_fleet, bao, monkeypatch):
    client = bao.client()
    client.sys.create_or_update_acl_policy(name="botaudit-readonly", policy=POLICY.read_text())
    token = client.auth.token.create(policies=["botaudit-readonly"], ttl="10m", no_default_policy=True)
    monkeypatch.setenv("VAULT_TOKEN_TEST_VAULT", token["auth"]["client_token"])
    try:
        probe = audit_run_in_process(connector_names=["test-vault"]).probe_runs.get(kind="vault")
    finally:
        client.auth.token.revoke_accessor(token["auth"]["accessor"])
    assert probe.status == ProbeRun.Status.OK, probe.error
    assert probe.counts["kv_secrets"] == 6 and probe.counts["tokens"] >= 4 and probe.counts["approles"] == 3


def test_recommended_policy_cannot_read_values_or_ids():
    acl = Acl(policy_parse("botaudit-readonly", POLICY.read_text()))
    assert not acl.allows("read", kv_data_path("secret", "payments/stripe"))
    assert not acl.capabilities("auth/approle/role/x/secret-id-accessor/destroy")
    assert not acl.capabilities("auth/approle/role/x/role-id")
    assert not acl.allows("update", "auth/approle/role/x/secret-id")  # cannot mint secret ids
    assert not acl.capabilities("auth/token/create")
