"""API tokens: shown once, stored only as a hash, with expiry, last use, revocation, read-only mode
and a per-token rate limit."""

import hashlib
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from api.auth import PerTokenThrottle
from api.models import ApiToken
from api.tokens import TokenError, api_token_authenticate, api_token_create, api_token_revoke, expiry_parse
from inventory.models import AuditLogEntry


def _everything_stored() -> str:
    rows = [list(ApiToken.objects.values_list()), list(AuditLogEntry.objects.values_list())]
    return repr(rows)


def test_the_plain_token_is_shown_once_and_never_stored(world, capsys):
    call_command("api_token", "create", "aud@example.com", "--expires", "30d", "--read-only")
    out = capsys.readouterr()
    plain = out.out.strip()
    assert plain.startswith("bat_") and "Shown once" in out.err
    token = ApiToken.objects.get()
    assert token.read_only and token.digest == hashlib.sha256(plain.encode()).hexdigest()
    secret = plain[len("bat_") + 9:]  # after the prefix; the secret itself may contain "_"
    assert len(secret) == 43 and plain not in _everything_stored() and secret not in _everything_stored()
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert api_token_authenticate(plain) == token
    call_command("api_token", "list")
    listing = capsys.readouterr().out
    assert token.prefix in listing and plain not in listing


def test_a_wrong_secret_malformed_expired_or_revoked_token_is_refused(world):
    user = world["users"]["auditor"]
    token, plain = api_token_create(user=user)
    assert api_token_authenticate(plain) == token
    assert api_token_authenticate(plain[:-1] + ("A" if plain[-1] != "A" else "B")) is None
    assert api_token_authenticate("bat_nope") is None and api_token_authenticate("") is None
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_token_authenticate(plain) is None
    token2, plain2 = api_token_create(user=user, expires_in=None)
    assert api_token_revoke(token=token2, actor=user) and not api_token_revoke(token=token2, actor=user)
    assert api_token_authenticate(plain2) is None
    user.is_active = False
    user.save()
    _token3, plain3 = api_token_create(user=user)
    assert api_token_authenticate(plain3) is None


def test_expiry_values(world):
    assert expiry_parse(None) == timedelta(days=90)
    assert expiry_parse("12h") == timedelta(hours=12) and expiry_parse("never") is None
    for bad in ("0d", "90", "1y", "-3d", "d"):
        with pytest.raises(TokenError):
            expiry_parse(bad)


def test_requests_record_last_use_and_refuse_bad_tokens(api, tokens, world):
    assert api("anonymous").get("/api/v1/bots/").status_code in (401, 403)
    response = api("viewer_a").get("/api/v1/bots/")
    assert response.status_code == 200
    assert ApiToken.objects.filter(user=world["users"]["viewer_a"]).get().last_used_at is not None
    bad = api("anonymous")
    bad.credentials(HTTP_AUTHORIZATION="Bearer bat_aaaaaaaa_" + "x" * 43)
    response = bad.get("/api/v1/bots/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer"


def test_a_read_only_token_cannot_triage(api, world):
    url = f"/api/v1/findings/{world['f_leak'].pk}/triage/"
    response = api("auditor_read_only").post(url, {"action": "acknowledge", "reason": "known"}, format="json")
    assert response.status_code == 403
    assert api("auditor").post(url, {"action": "acknowledge", "reason": "known"}, format="json").status_code == 200


def test_rate_limited_per_token(api, monkeypatch):
    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"token": "3/min"})
    viewer = api("viewer_a")
    codes = [viewer.get("/api/v1/teams/").status_code for _ in range(4)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    assert api("viewer_b").get("/api/v1/teams/").status_code == 200  # another token, its own bucket
