"""The permission matrix: anonymous, viewer of team A, viewer of team B, auditor, admin x every URL."""

import pytest

from tests.dashboard.conftest import make_finding

URLS = ["/", "/bots/", "/bots/pay-bot/", "/bots/plat-bot/", "/findings/", "/runs/", "/export/audit.csv",
        "/export/audit.xlsx", "/export/findings.csv", "/admin/"]
ROLES = ["anonymous", "viewer_a", "viewer_b", "auditor", "admin"]
EXPECTED = {  # status per role, in URLS order
    "anonymous": [302] * 10,
    "viewer_a": [200, 200, 200, 404, 200, 200, 200, 200, 200, 302],
    "viewer_b": [200, 200, 404, 200, 200, 200, 200, 200, 200, 302],
    "auditor": [200, 200, 200, 200, 200, 200, 200, 200, 200, 302],
    "admin": [200] * 10,
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("index", range(len(URLS)))
def test_permission_matrix_get(client, world, role, index):
    if role != "anonymous":
        client.force_login(world["users"][role])
    url = URLS[index]
    response = client.get(url)
    assert response.status_code == EXPECTED[role][index], (role, url)
    if response.status_code == 302:
        assert "login" in response["Location"]


POSTS = ["/findings/triage/", "/runs/start/"]
POST_EXPECTED = {"anonymous": 302, "viewer_a": 403, "viewer_b": 403}


@pytest.mark.parametrize("role", ["anonymous", "viewer_a", "viewer_b"])
@pytest.mark.parametrize("url", POSTS)
def test_only_auditors_triage_and_start_audits(client, world, role, url, settings):
    settings.REDIS_URL = ""
    if role != "anonymous":
        client.force_login(world["users"][role])
    response = client.post(url, {"pk": [world["f_leak"].pk], "action": "acknowledge", "reason": "x"})
    assert response.status_code == POST_EXPECTED[role]
    world["f_leak"].refresh_from_db()
    assert world["f_leak"].status == "open"


def test_public_urls_need_no_login(client, db):
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 200


def _body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("url", ["/", "/bots/", "/findings/", "/export/audit.csv", "/export/findings.csv",
                                 "/bots/?team=platform", "/findings/?team=platform"])
def test_viewer_never_sees_the_other_team(client, world, url):
    client.force_login(world["users"]["viewer_a"])
    body = _body(client.get(url)).decode()
    assert "plat-bot" not in body
    assert "vault.policy.wildcard" not in body
    if "team=" not in url:
        assert "pay-bot" in body


def test_viewer_does_not_see_findings_without_a_bot_but_auditor_does(client, world):
    make_finding(None, "aws.account.root_key", severity="critical", subject="account:123456789012")
    client.force_login(world["users"]["viewer_a"])
    assert b"aws.account.root_key" not in client.get("/findings/").content
    client.force_login(world["users"]["auditor"])
    assert b"aws.account.root_key" in client.get("/findings/").content


def test_viewer_in_no_team_sees_an_empty_fleet(client, world, django_user_model):
    user = django_user_model.objects.create_user("nobody@example.com", "nobody@example.com", "pw-123456789")
    client.force_login(user)
    body = client.get("/bots/").content.decode()
    assert "pay-bot" not in body and "plat-bot" not in body
    assert client.get("/bots/pay-bot/").status_code == 404
