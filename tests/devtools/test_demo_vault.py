"""The demo seeder against its own OpenBao dev server, for a fleet read from the database."""

import secrets

import pytest

from devtools.demo_vault import vault_demo_seed
from devtools.openbao import dev_server_start, dev_server_stop, free_port
from inventory.models import Bot, Connector, Credential, Identity, Team
from scanners.models import Finding, ProbeRun
from scanners.services.audit import audit_run_in_process

pytestmark = pytest.mark.django_db


def _fleet(url):
    team = Team.objects.create(name="payments", slug="payments")

    def bot(name, creds=(), approle=None, token_role=None):
        b = Bot.objects.create(name=name, slug=name, team=team, owner_email="o@example.com")
        for cname, ref in creds:
            Credential.objects.create(bot=b, name=cname, store="vault_kv", ref=ref, rotation_days=90)
        if approle:
            Identity.objects.create(bot=b, kind=Identity.Kind.VAULT_APPROLE, ref=approle)
        if token_role:
            Identity.objects.create(bot=b, kind=Identity.Kind.VAULT_TOKEN_ROLE, ref=token_role)

    bot("a-invoice", [("stripe", "secret/payments/stripe")], approle="invoice")
    bot("b-refund", [("refunds", "secret/payments/stripe-refunds")], approle="refund")
    bot("c-etl", [("wh", "secret/data/warehouse")], approle="etl")
    bot("d-deploy", token_role="deploy")
    bot("e-helpdesk", [("zendesk", "secret/support/zendesk")], approle="helpdesk")
    return Connector.objects.create(name="demo-vault", kind="vault",
                                    options={"url": url, "kv_mounts": ["secret"], "auth": "token"})


def test_seeder_plants_problems_for_the_fleet_in_the_database(db, tmp_path, monkeypatch):
    port, token = free_port(), "demo-" + secrets.token_hex(6)
    proc = dev_server_start(port=port, root_token=token, log_path=tmp_path / "bao.log")
    monkeypatch.setenv("VAULT_TOKEN", token)
    try:
        _fleet(f"http://127.0.0.1:{port}")
        line = vault_demo_seed()
        run = audit_run_in_process(connector_names=["demo-vault"])
    finally:
        dev_server_stop(proc)
    assert line.startswith("Vault: seeded") and "planted" in line
    assert run.probe_runs.get(kind="vault").status == ProbeRun.Status.OK
    found = {(f.check_id, f.bot.name if f.bot else None) for f in Finding.objects.filter(check_id__startswith="vault.")}
    assert ("vault.policy.wildcard", "a-invoice") in found
    assert ("vault.policy.reads_other_bots_secrets", "a-invoice") in found
    assert ("vault.approle.secret_id_no_ttl", "b-refund") in found
    assert ("vault.approle.unbound", "b-refund") in found
    assert ("vault.policy.sudo", "d-deploy") in found
    assert ("vault.token.long_ttl", "d-deploy") in found
    assert ("vault.inventory.missing", "c-etl") in found  # secret/warehouse, the last ref, left out
    assert ("vault.kv.unowned", None) in found and ("vault.audit.disabled", None) in found
    assert not [f for f in found if f[1] == "e-helpdesk"]  # least privilege by default


def test_seeder_says_plainly_when_vault_is_skipped(db, monkeypatch):
    monkeypatch.setenv("VAULT_TOKEN", "x")
    conn = _fleet(f"http://127.0.0.1:{free_port()}")
    line = vault_demo_seed()
    assert line.startswith("Vault: skipped - no OpenBao dev server at") and "demo-vault disabled" in line
    conn.refresh_from_db()
    assert conn.enabled is False


def test_seeder_says_so_when_the_server_refuses_its_token(db, bao, monkeypatch):
    monkeypatch.setenv("VAULT_TOKEN", "not-this-servers-token")
    conn = _fleet(bao.url)
    line = vault_demo_seed()
    assert line.startswith(f"Vault: skipped - could not seed {bao.url}: Forbidden")
    conn.refresh_from_db()
    assert conn.enabled is False
