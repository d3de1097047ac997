"""Unreachable, TLS error, sealed, 403 on one endpoint, bad configuration: the probe fails or is
partial with a clear error, earlier findings stay open, other connectors still run."""

import secrets

import hvac
import pytest

from devtools.openbao import dev_server_start, dev_server_stop, free_port
from inventory.models import Connector
from scanners.models import Finding, ProbeRun
from scanners.services.audit import audit_run_in_process

pytestmark = pytest.mark.django_db


def _probe(run, name):
    return run.probe_runs.get(connector__name=name)


def _open_vault_findings():
    qs = Finding.objects.filter(check_id__startswith="vault.", status="open")
    return set(qs.values_list("fingerprint", flat=True))


def test_unreachable_vault_fails_and_keeps_findings_while_others_run(vault_fleet, bao, monkeypatch):
    audit_run_in_process(connector_names=["test-vault"])
    before = _open_vault_findings()
    assert before
    conn = Connector.objects.get(name="test-vault")
    other = Connector.objects.create(name="other-vault", kind="vault", options=dict(conn.options))
    monkeypatch.setenv("VAULT_TOKEN_OTHER_VAULT", bao.root_token)
    port = free_port()
    conn.options = {**conn.options, "url": f"http://127.0.0.1:{port}"}
    conn.save()
    run = audit_run_in_process(connector_names=["test-vault", other.name])
    failed = _probe(run, "test-vault")
    assert failed.status == ProbeRun.Status.FAILED
    assert "unreachable" in failed.error and f"127.0.0.1:{port}" in failed.error
    assert _probe(run, other.name).status == ProbeRun.Status.OK
    assert before <= _open_vault_findings()  # nothing resolved by the failed probe
    assert Finding.objects.filter(scope=f"connector:{conn.pk}", status="resolved").count() == 0


def test_tls_error_is_a_clear_failure(vault_fleet, bao):
    conn = Connector.objects.get(name="test-vault")
    conn.options = {**conn.options, "url": bao.url.replace("http://", "https://")}  # HTTPS to an HTTP port
    conn.save()
    run = audit_run_in_process(connector_names=["test-vault"])
    probe = _probe(run, "test-vault")
    assert probe.status == ProbeRun.Status.FAILED
    assert "TLS error" in probe.error


def test_https_with_ca_cert_and_unknown_ca(db, tmp_path, monkeypatch):
    port, token = free_port(), "root-" + secrets.token_hex(6)
    proc = dev_server_start(port=port, root_token=token, log_path=tmp_path / "bao.log", tls_dir=tmp_path)
    monkeypatch.setenv("VAULT_TOKEN", token)
    url = f"https://127.0.0.1:{port}"
    try:
        Connector.objects.create(name="tls-ok", kind="vault",
                                 options={"url": url, "ca_cert": str(tmp_path / "vault-ca.pem")})
        Connector.objects.create(name="tls-unknown-ca", kind="vault", options={"url": url})
        run = audit_run_in_process(connector_names=["tls-ok", "tls-unknown-ca"])
    finally:
        dev_server_stop(proc)
    assert _probe(run, "tls-ok").status == ProbeRun.Status.OK, _probe(run, "tls-ok").error
    bad = _probe(run, "tls-unknown-ca")
    assert bad.status == ProbeRun.Status.FAILED
    assert "TLS error" in bad.error and "CERTIFICATE_VERIFY_FAILED" in bad.error


def test_sealed_vault_fails_with_that_said(db, tmp_path, monkeypatch):
    port, token = free_port(), "root-" + secrets.token_hex(6)
    proc = dev_server_start(port=port, root_token=token, log_path=tmp_path / "bao.log")
    try:
        monkeypatch.setenv("VAULT_TOKEN", token)
        conn = Connector.objects.create(name="sealed", kind="vault", options={"url": f"http://127.0.0.1:{port}"})
        earlier = _recorded_in_scope(conn)  # what an earlier audit of this Vault found
        hvac.Client(url=f"http://127.0.0.1:{port}", token=token).sys.seal()
        run = audit_run_in_process(connector_names=["sealed"])
    finally:
        dev_server_stop(proc)
    probe = _probe(run, "sealed")
    assert probe.status == ProbeRun.Status.FAILED
    assert "sealed" in probe.error
    assert run.probe_runs.get(kind="inventory").status == ProbeRun.Status.OK  # the others run
    earlier.refresh_from_db()
    assert earlier.status == "open"  # nothing resolved


def _recorded_in_scope(connector):
    from scanners import registry
    from scanners.services.audit import connector_scope
    from scanners.services.findings import Draft, findings_upsert

    check = registry.get("vault").checks[0]
    draft = Draft(check=check, hit=registry.Hit(subject=f"vault-earlier:{connector.pk}"))
    findings_upsert(drafts=[draft], scope=connector_scope(connector))
    return Finding.objects.get(fingerprint=draft.fingerprint)


def test_403_on_token_accessors_is_partial_and_resolves_nothing(vault_fleet, bao, monkeypatch):
    audit_run_in_process(connector_names=["test-vault"])
    root_findings = set(Finding.objects.filter(check_id="vault.token.root").values_list("pk", flat=True))
    assert root_findings
    monkeypatch.setenv("VAULT_TOKEN_TEST_VAULT", bao.seeded["limited_token"])
    run = audit_run_in_process(connector_names=["test-vault"])
    probe = _probe(run, "test-vault")
    assert probe.status == ProbeRun.Status.PARTIAL
    assert "auth/token/accessors" in probe.error and "sudo" in probe.error
    # the token findings were not seen this time, but a partial probe resolves nothing
    assert set(Finding.objects.filter(check_id="vault.token.root", status="open").values_list("pk", flat=True)) \
        == root_findings
    # what it could read, it still checked
    assert Finding.objects.filter(check_id="vault.approle.secret_id_no_ttl", last_probe_run=probe).exists()


def test_approle_login_from_connector_named_env(vault_fleet, bao, monkeypatch):
    conn = Connector.objects.get(name="test-vault")
    conn.options = {**conn.options, "auth": "approle"}
    conn.save()
    monkeypatch.setenv("VAULT_ROLE_ID_TEST_VAULT", bao.seeded["probe_role_id"])
    monkeypatch.setenv("VAULT_SECRET_ID_TEST_VAULT", bao.seeded["probe_secret_id"])
    probe = _probe(audit_run_in_process(connector_names=["test-vault"]), "test-vault")
    assert probe.status == ProbeRun.Status.PARTIAL  # the probe-limited policy has no sudo
    assert probe.counts["kv_secrets"] >= 6 and probe.counts["policies"] >= 5
    # its own login token was neither reported nor left behind
    token = bao.client().auth.token
    metas = [token.lookup_accessor(a)["data"]["meta"] or {} for a in token.list_accessors()["data"]["keys"]]
    assert not [m for m in metas if m.get("role_name") == "botaudit-probe"]


@pytest.mark.parametrize(("options", "env", "message"), [
    ({}, {"VAULT_TOKEN": "x"}, "option 'url' is required"),
    ({"url": "URL", "kv_mounts": "secret"}, {"VAULT_TOKEN": "x"}, "'kv_mounts' must be a list"),
    ({"url": "URL", "auth": "ldap"}, {"VAULT_TOKEN": "x"}, "'auth' must be 'token' or 'approle'"),
    ({"url": "URL", "ca_cert": "/nonexistent/ca.pem"}, {"VAULT_TOKEN": "x"}, "ca_cert '/nonexistent/ca.pem'"),
    ({"url": "URL"}, {}, "set VAULT_TOKEN or VAULT_TOKEN_BAD_ONE"),
    ({"url": "URL", "auth": "approle"}, {}, "VAULT_ROLE_ID_BAD_ONE"),
    ({"url": "URL"}, {"VAULT_TOKEN": "not-a-real-token"}, "token was rejected"),
    ({"url": "URL", "auth": "approle"}, {"VAULT_ROLE_ID": "nope", "VAULT_SECRET_ID": "nope"},
     "AppRole login rejected at auth/approle/login"),
])
def test_bad_configuration_fails_naming_what(db, bao, monkeypatch, options, env, message):
    for name in ("VAULT_TOKEN", "VAULT_TOKEN_BAD_ONE", "VAULT_ROLE_ID", "VAULT_SECRET_ID"):
        monkeypatch.delenv(name, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    if "url" in options:
        options = {**options, "url": bao.url}
    Connector.objects.create(name="bad-one", kind="vault", options=options)
    probe = _probe(audit_run_in_process(connector_names=["bad-one"]), "bad-one")
    assert probe.status == ProbeRun.Status.FAILED
    assert message in probe.error
    assert probe.error.startswith("bad-one: ")


def test_kv_mount_that_is_not_kv_v2_makes_the_probe_partial(vault_fleet):
    conn = Connector.objects.get(name="test-vault")
    conn.options = {**conn.options, "kv_mounts": ["secret", "cubbyhole"]}
    conn.save()
    probe = _probe(audit_run_in_process(connector_names=["test-vault"]), "test-vault")
    assert probe.status == ProbeRun.Status.PARTIAL
    assert "kv mount 'cubbyhole': not a KV secret engine" in probe.error
    assert probe.counts["kv_secrets"] == 6
