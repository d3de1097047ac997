"""The permission matrix, generated from the URL resolver: every URL pattern the project serves
(dashboard, digest, exports, auth, admin — also ones added later) is requested with GET and POST
as every persona, with real objects of the other team in its arguments.

  anonymous          -> login redirect (401/403 for non-page endpoints), except the public URLs
  viewer of team A   -> team B's bot, finding or digest: 404 (or 403 for auditor-only pages);
                        no page, choice list, count, chart or export shows anything of team B
  viewer of team B   -> its own objects: 200
  auditor, admin     -> no 500 anywhere

A new URL needs no change here to be covered; one with a new argument name fails until that
argument gets a real value below."""

import re

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver

from inventory.models import Bot, Credential, Identity, Repository, Team
from scanners.models import AuditRun, Digest, ProbeRun
from tests.dashboard.conftest import make_finding

PUBLIC = {"/accounts/login/", "/accounts/logout/", "/healthz", "/admin/login/", "/admin/logout/"}
PERSONAS = ["anonymous", "viewer_a", "viewer_b", "auditor", "admin"]
LEAK_FP = "b" * 64  # team B's leaked secret (a keyed fingerprint is hex)
MARK = "zz_b"  # every string of team B's private data starts with it: a viewer of team A never sees it (the "_" is
# outside the alphabet of CSRF tokens and session keys, so no random value on a page can contain it)


@pytest.fixture
def team_b_data(world):
    """Team B's private data, each field marked, reachable from every page that could leak it."""
    team_b = Team.objects.get(name="platform")
    team_b.email = f"{MARK}-team@example.com"
    team_b.save()
    bot = Bot.objects.create(name=f"{MARK}-bot", slug=f"{MARK}-bot", team=team_b, environment=f"{MARK}-env",
                             owner_email=f"{MARK}-owner@example.com", description=f"{MARK} description")
    repo = Repository.objects.create(name=f"{MARK}-repo", url=f"/srv/{MARK}/repo")
    bot.repositories.add(repo)
    Identity.objects.create(bot=bot, kind="aws_iam_user", ref=f"arn:aws:iam::1:user/{MARK}-user")
    Credential.objects.create(bot=bot, name=f"{MARK}-cred", store="vault_kv", ref=f"secret/{MARK}/x",
                              service=f"{MARK}-service", rotation_days=1)
    location = {"repository": f"{MARK}-repo", "file": f"{MARK}-file.py", "line": 1, "rule_id": f"{MARK}-rule",
                "commit": "c" * 40, "still_at_head": True, "confidence": "high", "redacted": f"{MARK}…(9)"}
    evidence = {"secret_fingerprint": LEAK_FP, "redacted": f"{MARK}…(9)", "rule_ids": [f"{MARK}-rule"],
                "repositories": [f"{MARK}-repo"], "location_count": 1, "still_at_head": True,
                "confidence": "high", "locations": [location]}
    finding = make_finding(bot, "git.secret.leaked", severity="critical", subject=f"{MARK}-subject",
                           evidence=evidence)
    Digest.objects.create(group=f"team:{team_b.slug}", week="2026-W48", team=team_b, subject=f"{MARK} subject")
    return {"team": team_b, "bot": bot, "finding": finding}


def walk(patterns, prefix="", namespace=""):
    """(route, pattern name) of every endpoint, resolvers followed recursively."""
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, route, entry.namespace or namespace)
        elif isinstance(entry, URLPattern):
            yield route, f"{namespace}:{entry.name}" if namespace else entry.name


def arguments(route, objects):
    """A value for every argument of `route`: team B's real objects, the model's own for the admin."""
    model = _admin_model(route)
    values = {
        "slug": objects["bot"].slug, "pk": objects["finding"].pk, "team": objects["team"].slug,
        "object_id": str(model.objects.order_by("pk").values_list("pk", flat=True).first() or 1) if model else "1",
        "id": str(objects["admin_user"].pk), "app_label": "inventory", "url": "no-such-page/",
        "content_type_id": str(objects["content_type"].pk), "format": "json", "prefix": objects["token"].prefix,
        "fingerprint": LEAK_FP,
    }
    if "teams" in route:  # the API's teams are looked up by slug too
        values["slug"] = objects["team"].slug
    names = set(re.findall(r"\(\?P<(\w+)>", route)) | set(re.findall(r"(?<!\?P)<(?:\w+:)?(\w+)>", route))
    missing = sorted(names - set(values))
    assert not missing, f"{route}: no real value for argument(s) {missing}: add them to arguments()"
    return values


def _admin_model(route):
    match = re.match(r"admin/(\w+)/(\w+)/", route)
    if not match:
        return None
    try:
        return apps.get_model(match[1], match[2])
    except LookupError:
        return None


def url_of(route, values):
    route = route.replace("<drf_format_suffix:format>", f".{values['format']}")  # DRF's suffix converter
    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m[1]]), route)  # regex groups first
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m[1]]), url)
    url = re.sub(r"/\?\$?$", "/", url)  # an optional trailing slash (DRF's routers)
    return "/" + url.replace("^", "").replace("$", "").replace("\\", "")


def endpoints(objects):
    return sorted({url_of(route, arguments(route, objects)): name
                   for route, name in walk(get_resolver().url_patterns)}.items())


@pytest.fixture
def objects(team_b_data, users, django_user_model):
    from django.contrib.contenttypes.models import ContentType

    from api.tokens import api_token_create

    token, _ = api_token_create(user=users["viewer_b"], name=f"{MARK} token")
    return {**team_b_data, "admin_user": users["admin"], "content_type": ContentType.objects.get_for_model(Bot),
            "token": token}


def test_the_walk_finds_every_kind_of_url(objects):
    found = dict(endpoints(objects))
    for url in ("/", "/bots/", f"/bots/{MARK}-bot/", f"/findings/{objects['finding'].pk}/", "/findings/triage/",
                "/runs/", "/runs/start/", "/export/audit.csv", "/export/audit.xlsx", "/export/findings.csv",
                "/digest/", "/digest/platform/", "/healthz", "/accounts/login/", "/admin/"):
        assert url in found, url
    first_bot = Bot.objects.order_by("pk").first().pk
    assert f"/admin/inventory/bot/{first_bot}/change/" in found and "/admin/inventory/" in found
    assert len(found) > 40  # the admin's too


def _request(client, method, url, persona, users, settings):
    settings.REDIS_URL = ""  # /runs/start/ runs the (empty) audit in-process
    client.logout()
    if persona != "anonymous":
        client.force_login(users[persona])
    response = getattr(client, method)(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body.decode("utf-8", "replace")


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_permission_matrix(client, objects, users, settings, persona, method):
    problems = []
    for url, name in endpoints(objects):
        response, body = _request(client, method, url, persona, users, settings)
        status, location = response.status_code, response.get("Location", "")
        where = f"{method.upper()} {url} ({name}) as {persona}: {status}"
        if status >= 500:
            problems.append(f"{where}: server error")
        elif persona == "anonymous" and url not in PUBLIC:
            if not (status in (401, 403) or (status == 302 and "login" in location)):
                problems.append(f"{where}: not protected (expected a login redirect, 401 or 403)")
        elif persona == "viewer_a" and _names_team_b(url, objects):
            if status < 400 and not (status == 302 and "login" in location):  # 403/404 (405: wrong method)
                problems.append(f"{where}: team B's object reached a viewer of team A")
        elif persona == "viewer_b" and method == "get" and url in _own_pages(objects) and status != 200:
            problems.append(f"{where}: a viewer cannot open their own team's object")
        if persona == "viewer_a" and MARK in body:
            problems.append(f"{where}: shows team B's data ({_around(body)})")
    assert not problems, "\n".join(problems)


def _names_team_b(url, objects):
    return any(part in url for part in (f"/{objects['bot'].slug}/", f"/findings/{objects['finding'].pk}/",
                                        "/digest/platform/", f"/{objects['token'].prefix}/", "/teams/platform"))


def _own_pages(objects):
    return {f"/bots/{objects['bot'].slug}/", f"/findings/{objects['finding'].pk}/"}


def _around(body):
    index = body.index(MARK)
    return body[max(0, index - 80):index + 40].replace("\n", " ")


@pytest.mark.parametrize("query", ["", "?environment=staging", "?team=platform",
                                   "?q=b", "?severity=critical", "?page=2", "?per_page=250", "?sort=-risk_score"])
@pytest.mark.parametrize("path", ["/", "/bots/", "/findings/", "/runs/", "/export/audit.csv", "/export/findings.csv"])
def test_viewer_a_never_sees_team_b_through_filters_counts_or_charts(client, objects, users, settings, path, query):
    response, body = _request(client, "get", path + query, "viewer_a", users, settings)
    assert response.status_code in (200, 400), (path + query, response.status_code)
    assert MARK not in body, _around(body)


def test_the_viewers_own_team_shows_up(client, objects, users, settings):
    """The marker check is meaningful: viewer B does see the marked data on the same pages."""
    _, body = _request(client, "get", "/bots/", "viewer_b", users, settings)
    assert f"{MARK}-bot" in body and f"{MARK}-env" in body


@pytest.fixture
def probe_runs(objects):
    run = AuditRun.objects.create(status="partial", trigger="test")
    ProbeRun.objects.create(audit_run=run, kind="git", scope="connector:9", status="partial",
                            error=f"repository {MARK}-repo: /srv/{MARK}/repo: no such repository",
                            counts={"findings": 7})
    return run


def test_runs_page_shows_errors_and_counts_only_to_auditors(client, probe_runs, users, settings):
    _, body = _request(client, "get", "/runs/", "viewer_a", users, settings)
    assert MARK not in body and "7 findings" not in body
    _, body = _request(client, "get", "/runs/", "auditor", users, settings)
    assert f"{MARK}-repo" in body and "7 findings" in body
