"""The demo's loopback ports, settable so the demo runs beside other services:
DEMO_AWS_PORT (moto, 5055), DEMO_VAULT_PORT (OpenBao, 8210), DEMO_WEB_PORT (runserver, 8000).
`make demo DEMO_AWS_PORT=... DEMO_VAULT_PORT=... DEMO_WEB_PORT=...` passes them on; after importing
examples/fleet.yaml, demo_setup points the demo connectors' loopback endpoints at them."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

DEFAULT_PORTS = {"aws": 5055, "vault": 8210, "web": 8000}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
ENDPOINT_OPTION = {"aws": "endpoint_url", "vault": "url"}


def demo_port(name: str) -> int:
    variable = f"DEMO_{name.upper()}_PORT"
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return DEFAULT_PORTS[name]
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ImproperlyConfigured(f"{variable}={raw!r}: a port number from 1 to 65535 is expected")
    return int(raw)


def demo_connectors_point() -> list[str]:
    """Point every aws/vault connector whose endpoint is on loopback at the demo's port for its kind."""
    from inventory.models import Connector

    changed = []
    for connector in Connector.objects.filter(kind__in=list(ENDPOINT_OPTION)):
        option = ENDPOINT_OPTION[connector.kind]
        url = (connector.options or {}).get(option) or ""
        parts = urlsplit(url)
        port = demo_port(connector.kind)
        if parts.hostname not in LOOPBACK or parts.port == port:
            continue
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        connector.options[option] = urlunsplit(parts._replace(netloc=f"{host}:{port}"))
        connector.save(update_fields=["options"])
        changed.append(f"{connector.name}: {connector.options[option]}")
    return changed
