"""A real OpenBao dev server for the whole session, seeded with tests/scanners/vault/scenario.py."""

import secrets

import hvac
import pytest

from devtools.openbao import dev_server_start, dev_server_stop, free_port

from .scenario import fleet_create, vault_seed


class Bao:
    def __init__(self, url, root_token, seeded):
        self.url, self.root_token, self.seeded = url, root_token, seeded

    def client(self, token=None):
        return hvac.Client(url=self.url, token=token or self.root_token)


@pytest.fixture(scope="session")
def bao(tmp_path_factory):
    port, token = free_port(), "root-" + secrets.token_hex(8)
    log = tmp_path_factory.mktemp("bao") / "bao.log"
    proc = dev_server_start(port=port, root_token=token, log_path=log)
    try:
        url = f"http://127.0.0.1:{port}"
        seeded = vault_seed(hvac.Client(url=url, token=token))
        yield Bao(url, token, seeded)
    finally:
        dev_server_stop(proc)


@pytest.fixture
def vault_fleet(db, bao, monkeypatch):
    """The inventory matching the seeded server, a connector `test-vault`, and its token in the env."""
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    monkeypatch.setenv("VAULT_TOKEN_TEST_VAULT", bao.root_token)
    return fleet_create(url=bao.url)
