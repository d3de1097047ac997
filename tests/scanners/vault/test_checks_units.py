"""Cases a real OpenBao server cannot produce on demand, on hand-made observations."""

import pytest
from django.utils import timezone

from scanners.context import ProbeContext
from scanners.vault import checks_access
from scanners.vault.observations import TokenInfo, VaultObservations, parse_time
from scanners.vault.policy import policy_parse

pytestmark = pytest.mark.django_db


def _token(accessor, policies, *, expire_time=None, period=0, meta=None, ttl=0):
    return TokenInfo(accessor=accessor, policies=policies, ttl=ttl, creation_ttl=ttl, expire_time=expire_time,
                     creation_time=0, orphan=False, period=period, display_name="token", meta=meta or {},
                     role="", path="auth/token/create")


def test_token_without_expiry_or_period_is_reported_unless_root(make_bot):
    bot = make_bot("legacy-bot")
    later = timezone.now() + timezone.timedelta(hours=1)
    obs = VaultObservations(cluster="c", url="u", tokens=[
        _token("a1", ["default", "app"], meta={"bot": "legacy-bot"}),  # migrated from an old cluster
        _token("a2", ["root"]),
        _token("a3", ["app"], period=3600),
        _token("a4", ["app"], expire_time=later, ttl=3600),
    ])
    hits = list(checks_access.token_no_expiry(obs, ProbeContext.build()))
    assert [(h.subject, h.bot_id) for h in hits] == [("vault:c:token:a1", bot.pk)]


def test_wildcard_recognises_plus_globs_and_whole_mounts(make_bot):
    bot = make_bot("wide-bot")
    obs = VaultObservations(
        cluster="c", url="u", secret_engines={"secret/": {"type": "kv", "version": "2"},
                                              "cubbyhole/": {"type": "cubbyhole", "version": ""}},
        auth_methods={"approle/": "approle"},
        tokens=[_token("t", ["wide"], meta={"bot": "wide-bot"}, ttl=60)],
        policies={"wide": policy_parse("wide", "\n".join(
            f'path "{p}" {{ capabilities = ["read"] }}' for p in
            ["+/*", "+/+/*", "secret/data/*", "secret/metadata/*", "auth/approle/*", "cubbyhole/*",
             "secret/data/team/*", "secret/data/+/x"]
        ) + '\npath "*" { capabilities = ["deny"] }')},
    )
    hits = list(checks_access.policy_wildcard(obs, ProbeContext.build()))
    assert {h.evidence["path"] for h in hits} == {"+/*", "+/+/*", "secret/data/*", "secret/metadata/*",
                                                  "auth/approle/*"}
    assert {h.bot_id for h in hits} == {bot.pk}


def test_parse_time_handles_nanoseconds_and_zero_time():
    assert parse_time("2026-11-27T18:47:30.896311197Z").microsecond == 896311
    assert parse_time("0001-01-01T00:00:00Z") is None
    assert parse_time("") is None
