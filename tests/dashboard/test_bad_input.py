"""Odd query strings give a page, not a crash."""

import pytest


@pytest.mark.parametrize("url", [
    "/bots/?page=999", "/bots/?page=abc", "/bots/?per_page=abc", "/bots/?per_page=100000", "/bots/?sort=bogus",
    "/bots/?team=nope", "/bots/?risk=purple", "/findings/?first_seen_after=notadate", "/findings/?page=0",
    "/findings/?status=weird",
])
def test_odd_query_strings(client, world, url):
    client.force_login(world["users"]["auditor"])
    response = client.get(url)
    assert response.status_code in (200, 404), url


@pytest.mark.parametrize(("url", "message"), [
    ("/export/audit.csv?team=nope", "bad filter team: Select a valid choice."),
    ("/export/audit.xlsx?risk=purple", "bad filter risk: Select a valid choice. purple is not one of"),
    ("/export/findings.csv?severity=bogus", "bad filter severity: Select a valid choice. bogus is not one of"),
    ("/export/findings.csv?first_seen_after=notadate", "bad filter first_seen: Enter a valid date."),
])
def test_exports_refuse_bad_filters_by_name(client, world, url, message):
    from inventory.models import AuditLogEntry

    client.force_login(world["users"]["auditor"])
    response = client.get(url)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AuditLogEntry.objects.filter(action__startswith="export.").exists()
