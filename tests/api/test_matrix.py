"""Every API endpoint (found in the URL resolver, not listed by hand) x every persona: nobody
unauthenticated gets data, a viewer never reaches another team's bot or finding, nothing 500s."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.api.conftest import PERSONAS


def api_routes():
    """(name, path template) of every /api/v1/ route, found by walking the resolver."""
    out = []

    def walk(patterns, prefix):
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and p.name and route.startswith("api/v1/") and "format" not in route:
                out.append((p.name, route))

    walk(get_resolver().url_patterns, "")
    return sorted(set(out))


def concrete(name, route, world):
    """A real URL for a route template, pointing at team A's objects (a viewer of B must get 404)."""
    pk = {"api-audit-run-detail": world["run"].pk,
          "api-probe-run-detail": world["run"].probe_runs.order_by("pk").first().pk}.get(name, world["f_leak"].pk)
    values = {"slug": "payments" if name == "api-team-detail" else "pay-bot", "pk": str(pk)}
    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m.group(1)], route)
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], url)
    return "/" + url.replace("^", "").replace("$", "")


def test_the_matrix_sees_every_resource():
    names = {name for name, _ in api_routes()}
    assert {"api-bot-detail", "api-finding-triage", "api-audit-run-list", "api-leak-list", "api-schema",
            "api-checks"} <= names


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_endpoint_for_every_persona(api, world, persona):
    client = api(persona)
    for name, route in api_routes():
        url = concrete(name, route, world)
        response = client.get(url)
        assert response.status_code < 500, (persona, url)
        if persona == "anonymous":
            assert response.status_code in (401, 403), url
            assert response.status_code != 200
            continue
        team_a_object = "pay-bot" in url or "/teams/payments/" in url or f"/findings/{world['f_leak'].pk}/" in url
        if persona == "viewer_b" and team_a_object:
            assert response.status_code in (403, 404, 405), url
            assert response.status_code != 200
        elif name.endswith("triage"):
            assert response.status_code in (403, 405)  # POST only, auditors only
        elif name != "api-docs":
            assert response.status_code == 200, (persona, url, response.status_code)
    writes = [("post", f"/api/v1/findings/{world['f_leak'].pk}/triage/", {"action": "acknowledge", "reason": "m"}),
              ("post", "/api/v1/audit-runs/", {})]
    for method, url, body in writes:
        code = getattr(client, method)(url, body, format="json").status_code
        expected = {"anonymous": {401, 403}, "viewer_a": {403}, "viewer_b": {403, 404},
                    "auditor_read_only": {403}}.get(persona)
        if expected:
            assert code in expected, (persona, url, code)
