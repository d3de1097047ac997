"""A read-only hvac client for one connector, with its credentials from the environment and a
count of every HTTP request it makes.

Connector options (non-secret): `url` (required), `namespace`, `kv_mounts` (default ["secret"]),
`ca_cert` (path to a CA bundle), `auth` ("token" or "approle"), `approle_mount` (default
"approle"), `timeout` (seconds, default 30), `workers` (concurrent requests).
The token comes from VAULT_TOKEN_<CONNECTOR_NAME> or VAULT_TOKEN; AppRole ids from
VAULT_ROLE_ID[_<NAME>] / VAULT_SECRET_ID[_<NAME>]. The connector-named variant wins.
"""

from __future__ import annotations

import os
import re
import threading
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import hvac
import requests
from django.conf import settings
from hvac import exceptions as hvac_exc
from requests.adapters import HTTPAdapter

from ..registry import ProbeError, ProbeUnavailable


class RequestCounter:
    """Counts responses through a requests hook; safe across worker threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self.value = 0

    def hook(self, response, *args, **kwargs):
        with self._lock:
            self.value += 1
        return response


@dataclass
class VaultConnection:
    client: hvac.Client
    counter: RequestCounter
    label: str  # connector name, used in messages and finding subjects
    url: str
    kv_mounts: list[str]
    workers: int
    login_accessor: str = ""  # the token this probe's AppRole login created (skipped, then revoked)


def env_suffix(connector_name: str) -> str:
    """`demo-vault` -> `DEMO_VAULT`, for VAULT_TOKEN_DEMO_VAULT."""
    return re.sub(r"[^A-Z0-9]", "_", connector_name.upper())


def env_value(name: str, connector_name: str) -> str:
    return os.environ.get(f"{name}_{env_suffix(connector_name)}") or os.environ.get(name, "")


def _options(connector) -> dict:
    options = dict(connector.options or {})
    url = options.get("url")
    if not url or not isinstance(url, str):
        raise ProbeError(f"connector {connector.name!r}: option 'url' is required (e.g. https://vault:8200)")
    mounts = options.get("kv_mounts", ["secret"])
    if not isinstance(mounts, list) or not all(isinstance(m, str) and m.strip("/") for m in mounts):
        raise ProbeError(f"connector {connector.name!r}: option 'kv_mounts' must be a list of mount paths")
    auth = options.get("auth", "token")
    if auth not in ("token", "approle"):
        raise ProbeError(f"connector {connector.name!r}: option 'auth' must be 'token' or 'approle', not {auth!r}")
    ca_cert = options.get("ca_cert")
    if ca_cert and not os.path.isfile(ca_cert):
        raise ProbeError(f"connector {connector.name!r}: ca_cert {ca_cert!r} is not a readable file")
    return options


def vault_connect(connector) -> VaultConnection:
    """Build and authenticate a client. Raises ProbeError / ProbeUnavailable with what and where."""
    options = _options(connector)
    name, url = connector.name, options["url"].rstrip("/")
    workers = int(options.get("workers") or settings.BOTAUDIT_VAULT_WORKERS)
    counter = RequestCounter()
    session = requests.Session()
    session.hooks["response"].append(counter.hook)
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(workers, 4))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.verify = options.get("ca_cert") or True
    client = hvac.Client(url=url, namespace=options.get("namespace") or None, session=session,
                         verify=session.verify, timeout=int(options.get("timeout", 30)))
    conn = VaultConnection(client=client, counter=counter, label=name, url=url,
                           kv_mounts=[m.strip("/") for m in options.get("kv_mounts", ["secret"])], workers=workers)
    with vault_errors(conn, "authentication"):
        if options.get("auth", "token") == "approle":
            role_id, secret_id = env_value("VAULT_ROLE_ID", name), env_value("VAULT_SECRET_ID", name)
            if not role_id or not secret_id:
                raise ProbeError(f"{url}: auth 'approle' needs VAULT_ROLE_ID and VAULT_SECRET_ID "
                                 f"(or VAULT_ROLE_ID_{env_suffix(name)} / VAULT_SECRET_ID_{env_suffix(name)})")
            mount = options.get("approle_mount", "approle")
            try:
                login = client.auth.approle.login(role_id=role_id, secret_id=secret_id, mount_point=mount)
            except (hvac_exc.InvalidRequest, hvac_exc.Forbidden, hvac_exc.InvalidPath) as exc:
                raise ProbeError(f"{url}: AppRole login rejected at auth/{mount}/login: {_short(exc)}") from None
            conn.login_accessor = (login.get("auth") or {}).get("accessor", "")
        else:
            token = env_value("VAULT_TOKEN", name)
            if not token:
                raise ProbeError(f"{url}: no Vault token: set VAULT_TOKEN or VAULT_TOKEN_{env_suffix(name)}")
            client.token = token
    return conn


def response_data(resp) -> dict:
    """The `data` of an hvac response (or the response itself when it has none); {} for no response."""
    if not isinstance(resp, dict):
        return {}
    return resp.get("data") if isinstance(resp.get("data"), dict) else resp


def vault_logout(conn: VaultConnection) -> None:
    """Revoke the token of this probe's own AppRole login, so audits do not pile up live tokens."""
    if conn.login_accessor:
        with suppress(Exception):  # best effort: the token expires by its TTL anyway
            conn.client.auth.token.revoke_self()


@contextmanager
def vault_errors(conn: VaultConnection, what: str):
    """Turn transport and server errors into probe errors that name the URL and the endpoint.
    Forbidden/InvalidPath are left to the caller (they make a probe partial, not failed)."""
    try:
        yield
    except requests.exceptions.SSLError as exc:
        raise ProbeError(f"{conn.url}: TLS error during {what}: {_short(exc)}") from None
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise ProbeUnavailable(f"{conn.url}: unreachable during {what}: {_short(exc)}") from None
    except hvac_exc.VaultDown as exc:
        raise ProbeError(f"{conn.url}: Vault is sealed or down during {what}: {_short(exc)}") from None
    except hvac_exc.RateLimitExceeded as exc:
        raise ProbeUnavailable(f"{conn.url}: rate limited during {what}: {_short(exc)}") from None
    except hvac_exc.Unauthorized as exc:
        raise ProbeError(f"{conn.url}: authentication rejected during {what}: {_short(exc)}") from None
    except (hvac_exc.InternalServerError, hvac_exc.BadGateway) as exc:
        raise ProbeUnavailable(f"{conn.url}: server error during {what}: {_short(exc)}") from None


def _short(exc) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
