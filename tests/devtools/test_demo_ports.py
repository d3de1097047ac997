"""The demo's ports are settable: the Makefile passes DEMO_*_PORT on, the demo connectors from
examples/fleet.yaml follow, the OpenBao demo server listens there, bad values are a clear error."""

import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from devtools.demo_ports import demo_connectors_point, demo_port
from inventory.models import Connector

ROOT = Path(__file__).resolve().parents[2]


def test_make_demo_passes_the_ports_on():
    result = subprocess.run(["make", "-n", "--no-print-directory", "demo", "DEMO_AWS_PORT=6155",
                             "DEMO_VAULT_PORT=6210", "DEMO_WEB_PORT=6100"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "devtools.moto_server --port 6155" in out and "runserver 127.0.0.1:6100" in out
    assert "DEMO_VAULT_PORT=6210" in out and "BOTAUDIT_BASE_URL=http://127.0.0.1:6100" in out
    assert "5055" not in out and "8210" not in out and "8000" not in out


def test_demo_connectors_follow_the_ports(db, monkeypatch):
    call_command("fleet", "import", str(ROOT / "examples/fleet.yaml"), stdout=StringIO())
    assert demo_connectors_point() == []  # the defaults are what the example manifest says
    monkeypatch.setenv("DEMO_AWS_PORT", "6155")
    monkeypatch.setenv("DEMO_VAULT_PORT", "6210")
    assert len(demo_connectors_point()) == 2
    assert Connector.objects.get(name="demo-aws").options["endpoint_url"] == "http://127.0.0.1:6155"
    assert Connector.objects.get(name="demo-vault").options["url"] == "http://127.0.0.1:6210"
    assert demo_connectors_point() == []  # idempotent
    remote = Connector.objects.create(name="real", kind="aws", options={"endpoint_url": "https://iam.example.com:443"})
    demo_connectors_point()
    remote.refresh_from_db()
    assert remote.options["endpoint_url"] == "https://iam.example.com:443"  # only loopback endpoints move


@pytest.mark.parametrize("value", ["abc", "0", "70000", "-1"])
def test_a_bad_port_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("DEMO_WEB_PORT", value)
    with pytest.raises(ImproperlyConfigured, match=f"DEMO_WEB_PORT={value!r}: a port number from 1 to 65535"):
        demo_port("web")


def test_the_openbao_demo_server_listens_on_its_port(monkeypatch, tmp_path):
    import requests

    from devtools import openbao_server
    from devtools.openbao import free_port

    port = free_port()
    monkeypatch.setenv("DEMO_VAULT_PORT", str(port))
    monkeypatch.setattr(openbao_server, "VAR", tmp_path)
    monkeypatch.setattr(openbao_server, "PID_FILE", tmp_path / "bao.pid")
    monkeypatch.setattr(openbao_server, "LOG_FILE", tmp_path / "bao.log")
    message = openbao_server.demo_server_start()
    try:
        assert f"http://127.0.0.1:{port}" in message, message
        assert requests.get(f"http://127.0.0.1:{port}/v1/sys/health", timeout=5).status_code == 200
    finally:
        assert openbao_server.demo_server_stop()


def test_the_openbao_demo_server_keeps_its_pid_and_log_inside_the_repository():
    from devtools import openbao_server

    assert openbao_server.VAR == ROOT / "var"  # not the directory above the clone
