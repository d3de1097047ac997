"""The page cache (dashboard/cache.py): a write the pages show makes every cached value stale at
once, and a cached value is never served across viewer scopes."""

import re

import pytest
from django.db import transaction

from dashboard.cache import cached, generation
from scanners.models import AuditRun
from scanners.services.findings import findings_triage


@pytest.fixture
def cache_on(settings):
    settings.BOTAUDIT_PAGE_CACHE_SECONDS = 600


def test_a_triage_shows_on_the_next_overview(client, world, cache_on):
    auditor = world["users"]["auditor"]
    client.force_login(auditor)
    before = client.get("/").content.decode()
    assert client.get("/").content.decode().count("pay-bot") == before.count("pay-bot")  # warm, same page
    findings_triage(finding_ids=[world["f_leak"].pk], action="false_positive", reason="test key", user=auditor)
    after = client.get("/").content.decode()
    assert before != after
    findings = client.get("/findings/?status=open").content.decode()
    assert f"/findings/{world['f_leak'].pk}/" not in findings


def test_a_bot_moved_to_another_team_leaves_the_viewers_cached_pages(client, world, team_b, cache_on):
    client.force_login(world["users"]["viewer_a"])
    assert "pay-bot" in client.get("/bots/").content.decode()
    assert "pay-bot" in client.get("/").content.decode()
    bot = world["bot_a"]
    bot.team = team_b
    bot.save()
    assert "pay-bot" not in client.get("/bots/").content.decode()
    assert "pay-bot" not in client.get("/").content.decode()


def test_scopes_never_share_an_entry(client, world, cache_on):
    pages = ("/", "/bots/", "/findings/")
    seen = {}
    for who in ("auditor", "viewer_a", "viewer_b", "auditor", "viewer_a", "viewer_b"):
        client.force_login(world["users"][who])
        html = [client.get(p).content.decode() for p in pages]
        if who == "viewer_a":
            assert "plat-bot" not in "".join(html)
        if who == "viewer_b":
            assert "pay-bot" not in "".join(html)
        names = [sorted(set(re.findall(r'href="/bots/([\w-]+)/"', h))) for h in html]
        assert seen.setdefault(who, names) == names


def test_a_finished_audit_run_makes_every_entry_stale(world, cache_on):
    before = generation()
    calls = []
    user = world["users"]["auditor"]
    assert cached(name="t", user=user, compute=lambda: calls.append(1) or len(calls)) == 1
    assert cached(name="t", user=user, compute=lambda: calls.append(1) or len(calls)) == 1
    AuditRun.objects.create(status="ok", trigger="test")
    assert generation() > before
    assert cached(name="t", user=user, compute=lambda: calls.append(1) or len(calls)) == 2


def test_off_without_a_lifetime(world, settings):
    settings.BOTAUDIT_PAGE_CACHE_SECONDS = 0
    calls = []
    user = world["users"]["auditor"]
    for _ in range(2):
        cached(name="t", user=user, compute=lambda: calls.append(1))
    assert len(calls) == 2


@pytest.mark.django_db(transaction=True)
def test_the_generation_moves_again_after_commit(make_bot):
    """A page computed while a write is still uncommitted is stored under a generation that the
    commit then leaves behind."""
    with transaction.atomic():
        make_bot("committing-bot")
        during = generation()
    assert generation() > during
