"""The Tokens page and the API docs page: token shown once, revocation, CSP intact, no CDN."""

import re

from django.contrib.staticfiles import finders

from api.models import ApiToken
from api.tokens import api_token_authenticate

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
       "form-action 'self'; base-uri 'none'")


def test_create_shows_the_token_once_then_revoke(client, world):
    client.force_login(world["users"]["viewer_a"])
    response = client.post("/account/tokens/", {"name": "ci", "expires": "30d", "read_only": "on"})
    html = response.content.decode()
    plain = re.search(r'value="(bat_[a-z0-9]{8}_[A-Za-z0-9_-]{43})"', html).group(1)
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    token = ApiToken.objects.get(user=world["users"]["viewer_a"])
    assert token.read_only and api_token_authenticate(plain) == token
    again = client.get("/account/tokens/").content.decode()
    assert plain not in again and f"bat_{token.prefix}_" in again
    client.post(f"/account/tokens/{token.prefix}/revoke/")
    assert api_token_authenticate(plain) is None


def test_another_users_token_cannot_be_revoked(client, world):
    from api.tokens import api_token_create

    token, plain = api_token_create(user=world["users"]["auditor"])
    client.force_login(world["users"]["viewer_a"])
    assert client.post(f"/account/tokens/{token.prefix}/revoke/").status_code == 404
    assert api_token_authenticate(plain) == token


def test_docs_page_needs_a_login_and_keeps_csp(client, world):
    assert client.get("/api/v1/docs/").status_code in (401, 403)
    assert client.get("/api/v1/schema/").status_code in (401, 403)
    client.force_login(world["users"]["viewer_a"])
    response = client.get("/api/v1/docs/")
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Security-Policy"] == CSP
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert "https://" not in html and "http://cdn" not in html
    for src in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert src.startswith("/"), src
        if src.startswith("/static/"):  # vendored with the sidecar, collected by collectstatic
            assert finders.find(src.removeprefix("/static/").split("?")[0]), src
        else:
            assert client.get(src).status_code == 200, src
    assert client.get("/api/v1/schema/").status_code == 200
