"""Fleet, Findings, Leaks and the Overview kept as rendered HTML (dashboard/views/parts.py): a warm
request renders only the page shell, the stored parts hold nothing that belongs to one user (CSRF
token, session key, user name), and each viewer scope has its own parts."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from inventory.accounts import user_grant

LISTS = ("/bots/", "/findings/", "/leaks/")
PAGES = ("/", *LISTS, "/bots/?environment=staging&sort=-risk_score", "/findings/?status=open&page=1")


@pytest.fixture
def cache_on(settings):
    settings.BOTAUDIT_PAGE_CACHE_SECONDS = 600


def _stored_values() -> bytes:
    """Every value in the cache's Redis database, as raw bytes (pickled strings keep their text)."""
    client = cache._cache.get_client()
    return b"\n".join(client.get(key) or b"" for key in client.keys("*page*"))


def _environments(html: str) -> list[str]:
    select = re.search(r'<select name="environment".*?</select>', html, re.S).group(0)
    return [v for v in re.findall(r'<option value="([^"]*)"', select) if v]


@pytest.mark.parametrize("url", LISTS)
def test_a_warm_list_page_builds_no_filter_set_queryset_or_table(client, world, cache_on, url):
    for who in ("auditor", "viewer_a"):
        client.force_login(world["users"][who])
        cold = client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            warm = client.get(url)
        assert warm.status_code == cold.status_code == 200
        # an auditor's Findings shell lists the auditors who may approve a risk acceptance (per request)
        read = [q["sql"] for q in ctx.captured_queries if '"auth_group"."name" = \'auditor\'' not in q["sql"]]
        assert not [q for q in read if "inventory_bot" in q or "scanners_finding" in q or "DISTINCT" in q], read
        assert len(read) <= 4, read  # the session, the user, the role check, the viewer's teams
        assert warm.content.count(b"<tr>") == cold.content.count(b"<tr>") > (1 if url != "/leaks/" else 0)


def test_no_stored_part_holds_a_csrf_token_a_session_or_a_user_name(world, cache_on):
    """Two auditors share the parts (same scope); each gets their own CSRF token and name, and the
    cache holds neither's token, session key or e-mail address."""
    first, _ = user_grant(email="first-auditor@example.com", role="auditor")
    second, _ = user_grant(email="second-auditor@example.com", role="auditor")
    pages = {}
    for user in (first, second):
        c = Client()
        c.force_login(user)
        pages[user.email] = [c.get(p).content.decode() for p in PAGES]
        pages[user.email + ":tokens"] = [c.cookies["sessionid"].value, c.cookies["csrftoken"].value]
    stored = _stored_values()
    assert stored.count(b"<table") >= len(LISTS), "the pages were not cached"
    for user in (first, second):
        session, csrf = pages[user.email + ":tokens"]
        html = "".join(pages[user.email])
        assert user.email in html
        forms = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', pages[user.email][2])
        assert len(forms) == 2  # log out, triage: both this session's
        for secret in (session, csrf, user.email, *forms):
            assert secret.encode() not in stored, f"{secret[:6]}... reached the page cache"
    other = {first.email: second, second.email: first}
    for email, html in pages.items():
        if not email.endswith(":tokens"):  # only the shell's approver choices (auditors) name other auditors
            shown = re.sub(r'<select name="approver".*?</select>', "", "".join(html), flags=re.S)
            assert other[email].email not in shown
    first_forms = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', "".join(pages[first.email])))
    second_forms = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', "".join(pages[second.email])))
    assert first_forms and second_forms and not first_forms & second_forms


def test_filter_choices_and_rows_stay_in_each_scope_whoever_warmed_the_page(client, world, cache_on):
    url = "/bots/?sort=-risk_score"
    for who in ("auditor", "viewer_a", "auditor", "viewer_a"):
        client.force_login(world["users"][who])
        client.get(url)
    client.force_login(world["users"]["viewer_b"])
    html = client.get(url).content.decode()
    assert _environments(html) == ["staging"]
    assert "plat-bot" in html and "pay-bot" not in html and "lonely-bot" not in html
    client.force_login(world["users"]["viewer_a"])
    html = client.get(url).content.decode()
    assert _environments(html) == ["dev", "production"]
    assert "plat-bot" not in html
    client.force_login(world["users"]["auditor"])
    assert _environments(client.get(url).content.decode()) == ["dev", "production", "staging"]


def test_the_triage_form_wraps_the_stored_table_for_auditors_only(client, world, cache_on):
    client.force_login(world["users"]["auditor"])
    client.get("/findings/")
    html = client.get("/findings/").content.decode()
    form = re.search(r'<form method="post" action="/findings/triage/".*?</form>', html, re.S).group(0)
    assert f'name="pk" value="{world["f_leak"].pk}"' in form and 'name="next" value="/findings/"' in form
    client.force_login(world["users"]["viewer_a"])
    client.get("/findings/")
    html = client.get("/findings/").content.decode()
    assert "/findings/triage/" not in html and 'name="pk"' not in html
    assert "git.secret.leaked title" in html and "vault.policy.wildcard" not in html


def test_a_write_replaces_the_stored_parts(client, world, cache_on):
    client.force_login(world["users"]["viewer_a"])
    assert _environments(client.get("/bots/").content.decode()) == ["dev", "production"]
    bot = world["lonely"]
    bot.environment = "qa"
    bot.save()
    assert _environments(client.get("/bots/").content.decode()) == ["production", "qa"]


def test_pages_are_the_same_with_the_cache_off(client, world, settings):
    client.force_login(world["users"]["auditor"])
    settings.BOTAUDIT_PAGE_CACHE_SECONDS = 600
    on = [client.get(p).content for p in PAGES]
    settings.BOTAUDIT_PAGE_CACHE_SECONDS = 0
    off = [client.get(p).content for p in PAGES]
    token = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
    assert [token.sub(b"", page) for page in on] == [token.sub(b"", page) for page in off]
