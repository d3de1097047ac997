"""manage.py grant and seed_bench."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from inventory.models import Bot, Credential, Team
from inventory.selectors import bots_visible_to, user_is_admin, user_is_auditor
from scanners.models import BotScore, Finding


def grant(*args, stdin=None, monkeypatch=None):
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command("grant", *args, stdout=out)
    return out.getvalue()


def test_grant_creates_a_viewer_without_a_usable_password(team, make_bot):
    make_bot("pay-bot")
    out = grant("new@example.com", "--role", "viewer", "--team", "payments")
    user = get_user_model().objects.get(email="new@example.com")
    assert "created new@example.com: viewer, member of payments" in out and "no password yet" in out
    assert not user.has_usable_password()
    assert not user_is_auditor(user) and list(bots_visible_to(user).values_list("name", flat=True)) == ["pay-bot"]


def test_grant_password_from_stdin_and_role_changes(team, monkeypatch, client):
    grant("a@example.com", "--role", "auditor", "--password-stdin", stdin="s3cret-Passw0rd!\n", monkeypatch=monkeypatch)
    user = get_user_model().objects.get(username="a@example.com")
    assert user.check_password("s3cret-Passw0rd!") and user_is_auditor(user) and not user_is_admin(user)
    assert client.login(username="a@example.com", password="s3cret-Passw0rd!")
    grant("a@example.com", "--role", "admin")
    user.refresh_from_db()
    assert user_is_admin(user) and user.is_superuser and user.check_password("s3cret-Passw0rd!")
    out = grant("a@example.com", "--role", "viewer")
    user.refresh_from_db()
    assert "updated" in out and not user_is_auditor(user) and not user.is_staff
    assert get_user_model().objects.filter(email="a@example.com").count() == 1


@pytest.mark.parametrize(("args", "message"), [
    (["x@example.com", "--role", "viewer", "--team", "nope"], "--team 'nope': no such team (known: payments)"),
    (["not-an-email", "--role", "viewer"], "EMAIL 'not-an-email' is not an email address"),
])
def test_grant_errors_name_what_is_wrong(team, args, message):
    with pytest.raises(CommandError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        grant(*args)
    assert not get_user_model().objects.exists()


def test_grant_empty_stdin_is_an_error(db, monkeypatch):
    with pytest.raises(CommandError, match="standard input held no password"):
        grant("e@example.com", "--role", "viewer", "--password-stdin", stdin="", monkeypatch=monkeypatch)


def test_seed_bench_small_and_refuses_a_non_empty_database(db):
    out = io.StringIO()
    call_command("seed_bench", "--bots", "30", "--teams", "3", "--findings-per-bot", "5", stdout=out)
    assert "30 bots, 120 credentials, 150 findings" in out.getvalue()
    assert (Team.objects.count(), Bot.objects.count(), Credential.objects.count(), Finding.objects.count()) == (
        3, 30, 120, 150)
    assert BotScore.objects.count() == 90
    with pytest.raises(CommandError, match="already holds bots"):
        call_command("seed_bench", "--bots", "5", stdout=io.StringIO())
    call_command("seed_bench", "--bots", "5", "--teams", "1", "--reset", stdout=io.StringIO())
    assert Bot.objects.count() == 5
