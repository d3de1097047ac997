"""Secret values never leave Vault: the probe only calls metadata endpoints (proved by OpenBao's
own audit log), and the canary value appears in no finding, probe run, log line or CLI output."""

import contextlib
import io
import json
import logging
import secrets

import hvac
import pytest
from django.core import serializers
from django.core.management import call_command

from devtools.openbao import dev_server_start, dev_server_stop, free_port
from inventory.models import Connector
from scanners.models import Finding, ProbeRun
from scanners.services.audit import audit_run_in_process

from .scenario import CANARY

pytestmark = pytest.mark.django_db


def _call(*args):
    out = io.StringIO()
    with contextlib.suppress(SystemExit):
        call_command(*args, stdout=out)
    return out.getvalue()


def test_canary_value_appears_nowhere(vault_fleet, caplog):
    caplog.set_level(logging.DEBUG)
    json_out = _call("audit", "--json", "--connector", "test-vault")
    assert json.loads(json_out)["findings"]
    table_out = _call("audit", "--connector", "test-vault")
    findings_out = _call("findings", "--format", "json") + _call("findings", "--format", "csv")
    stored = serializers.serialize("json", [*Finding.objects.all(), *ProbeRun.objects.all()])
    assert "payments/stripe" in stored  # the secret's path is there, so the search is meaningful
    for text in (json_out, table_out, findings_out, stored, caplog.text):
        assert CANARY not in text


def test_only_metadata_endpoints_are_requested_and_audit_device_counts(db, tmp_path, monkeypatch):
    audit_log = tmp_path / "audit.log"
    config = tmp_path / "audit.hcl"
    config.write_text(f'audit "file" "to-file" {{\n  options {{\n    file_path = "{audit_log}"\n  }}\n}}\n')
    port, token = free_port(), "root-" + secrets.token_hex(6)
    proc = dev_server_start(port=port, root_token=token, log_path=tmp_path / "bao.log", config=config)
    try:
        url = f"http://127.0.0.1:{port}"
        client = hvac.Client(url=url, token=token)
        canary = "CANARY-" + secrets.token_hex(10)
        client.secrets.kv.v2.create_or_update_secret(path="team/app", secret={"v": canary}, mount_point="secret")
        seeded_lines = len(audit_log.read_text().splitlines())
        Connector.objects.create(name="audited", kind="vault", options={"url": url})
        monkeypatch.setenv("VAULT_TOKEN_AUDITED", token)
        run = audit_run_in_process(connector_names=["audited"])
    finally:
        dev_server_stop(proc)
    probe = run.probe_runs.get(connector__name="audited")
    assert probe.status == ProbeRun.Status.OK, probe.error
    assert not Finding.objects.filter(check_id="vault.audit.disabled").exists()  # a device is enabled
    entries = [json.loads(line) for line in audit_log.read_text().splitlines()[seeded_lines:]]
    paths = {e["request"]["path"] for e in entries if e.get("type") == "request"}
    assert "secret/detailed-metadata/team/" in paths  # the listing that carried the metadata
    assert not [p for p in paths if p.startswith("secret/data/")]
    assert canary not in audit_log.read_text()
