"""API fixtures: the dashboard's two-team world, and a bearer token per persona."""

import pytest
from rest_framework.test import APIClient

from api.tokens import api_token_create
from tests.dashboard.conftest import team_b, users, world  # noqa: F401 - fixtures

PERSONAS = ["anonymous", "viewer_a", "viewer_b", "auditor", "admin", "auditor_read_only"]


@pytest.fixture
def tokens(world):  # noqa: F811 - the imported fixture
    out = {}
    for name in ("viewer_a", "viewer_b", "auditor", "admin"):
        out[name] = api_token_create(user=world["users"][name], name=f"test {name}")[1]
    out["auditor_read_only"] = api_token_create(user=world["users"]["auditor"], read_only=True)[1]
    return out


@pytest.fixture
def api(tokens):
    """api("viewer_a") -> an APIClient sending that persona's bearer token ("anonymous": none)."""

    def as_persona(persona):
        client = APIClient()
        if persona != "anonymous":
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[persona]}")
        return client

    return as_persona
