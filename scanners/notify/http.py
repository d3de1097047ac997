"""POST JSON to a checked webhook address: the connection goes to the address that was checked (no
second DNS lookup, so no rebinding), TLS verifies the host name, redirects are not followed."""

from __future__ import annotations

import http.client
import json
import socket
import ssl

from django.conf import settings

from .targets import Resolved


class WebhookFailed(Exception):
    """The receiver could not be reached or did not answer 2xx: worth retrying."""


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, *, address: str, **kwargs):
        super().__init__(**kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, *, address: str, **kwargs):
        super().__init__(**kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def webhook_post(*, resolved: Resolved, body: dict) -> int:
    """The HTTP status of a 2xx answer; WebhookFailed otherwise (the message names no URL)."""
    data = json.dumps(body, ensure_ascii=False).encode()
    timeout = settings.BOTAUDIT_WEBHOOK_TIMEOUT
    if resolved.scheme == "https":
        conn = _PinnedHTTPS(address=resolved.address, host=resolved.host, port=resolved.port, timeout=timeout,
                            context=ssl.create_default_context())
    else:
        conn = _PinnedHTTP(address=resolved.address, host=resolved.host, port=resolved.port, timeout=timeout)
    try:
        conn.request("POST", resolved.path, body=data, headers={
            "Content-Type": "application/json", "User-Agent": "BotAudit-webhook/1"})
        response = conn.getresponse()
        response.read(65536)
    except (OSError, http.client.HTTPException) as exc:
        raise WebhookFailed(f"cannot deliver to {resolved.host}: {type(exc).__name__}") from None
    finally:
        conn.close()
    if not 200 <= response.status < 300:
        raise WebhookFailed(f"{resolved.host} answered HTTP {response.status}")
    return response.status
