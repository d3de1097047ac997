"""The finding page the weekly digest links to: scoped like every page, triage for auditors."""

import pytest
from django.urls import resolve

from scanners.digest import links
from tests.dashboard.conftest import make_finding


@pytest.mark.parametrize(("role", "finding", "status"), [
    ("viewer_a", "f_leak", 200), ("viewer_a", "f_b", 404), ("viewer_b", "f_leak", 404), ("viewer_b", "f_b", 200),
    ("auditor", "f_b", 200), ("admin", "f_leak", 200),
])
def test_finding_detail_is_scoped(client, world, role, finding, status):
    client.force_login(world["users"][role])
    response = client.get(f"/findings/{world[finding].pk}/")
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert world[finding].check_id in body and world[finding].fingerprint in body


def test_unowned_finding_only_for_auditors(client, world):
    unowned = make_finding(None, "aws.inventory.unowned", severity="info", category="inventory_gap")
    client.force_login(world["users"]["viewer_a"])
    assert client.get(f"/findings/{unowned.pk}/").status_code == 404
    client.force_login(world["users"]["auditor"])
    assert "unowned" in client.get(f"/findings/{unowned.pk}/").content.decode()


def test_triage_form_only_for_auditors_and_returns_to_the_finding(client, world):
    f = world["f_leak"]
    client.force_login(world["users"]["viewer_a"])
    assert 'action="/findings/triage/"' not in client.get(f"/findings/{f.pk}/").content.decode()
    client.force_login(world["users"]["auditor"])
    assert 'action="/findings/triage/"' in client.get(f"/findings/{f.pk}/").content.decode()
    response = client.post("/findings/triage/", {"pk": [f.pk], "action": "acknowledge", "reason": "SEC-12",
                                                 "next": f"/findings/{f.pk}/"})
    assert response.status_code == 302 and response["Location"] == f"/findings/{f.pk}/"
    f.refresh_from_db()
    assert f.status == "acknowledged" and f.status_reason == "SEC-12"


def test_digest_links_resolve_to_pages(settings, world):
    settings.BOTAUDIT_BASE_URL = "https://audit.example.com/"
    for url in (links.link_finding(world["f_leak"].pk), links.link_bot("pay-bot"), links.link_findings(team="payments"),
                links.link_digest(team_slug="payments", week="2026-W48")):
        assert url.startswith("https://audit.example.com/")
        path = "/" + url.removeprefix("https://audit.example.com/").split("?")[0]
        assert resolve(path).url_name in {"finding_detail", "bot_detail", "finding_list", "digest_team"}


def test_digest_team_findings_link_filters_by_team(client, world):
    from django.utils import timezone

    from scanners.digest.selectors import team_digest_build
    from scanners.digest.weeks import week_containing

    team = world["bot_a"].team
    team.name = "Payments Team"  # a name that is not its slug
    team.save()
    data = team_digest_build(team=team, week=week_containing(timezone.now()))
    client.force_login(world["users"]["auditor"])
    body = client.get(data["links"]["findings"].split("127.0.0.1:8000")[-1]).content.decode()
    assert world["f_leak"].check_id in body and world["f_b"].check_id not in body
