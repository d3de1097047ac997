"""Digests under hostile input: header injection through team names and addresses, one failing
recipient group never stops the batch, and probe errors never tell a team about other teams'
repositories, URLs or local paths."""

import io

import pytest
from django.core.management import CommandError, call_command

from inventory.models import Bot, Connector, Repository, Team
from scanners.digest.services import digest_prepare
from scanners.digest.weeks import week_parse
from scanners.models import Digest
from tests.scanners.digest.conftest import IN_WEEK, WEEK, make_probe_run

CANARY = "hunter2canary"


def send_all():
    out = io.StringIO()
    try:
        call_command("send_digest", "--week", WEEK, stdout=out)
        return out.getvalue(), 0
    except CommandError as exc:
        return out.getvalue() + str(exc), 1


@pytest.mark.parametrize("name", ["pay\rments", "pay\nBcc: evil@example.com", "pay\r\nX-Injected: 1",
                                  "pay\x1b[31m\tx\u2028y"])
def test_control_characters_in_a_team_name_never_reach_a_header(smtp, fleet, name):
    Team.objects.filter(pk=fleet["payments"].pk).update(name=name)
    out, code = send_all()
    assert code == 0, out
    subjects = [m.subject for m in smtp.messages]
    assert len(smtp.messages) == 3  # payments, platform, security: the batch went on
    for message in smtp.messages:
        assert "evil@example.com" not in message.rcpt_tos
        assert message.message["X-Injected"] is None and message.message["Bcc"] is None
        for value in message.message.values():
            assert "\r" not in value and "\n" not in value.replace("\n ", "")  # folding only
    assert any(s.startswith("[BotAudit] pay") for s in subjects)


def test_one_failing_group_is_recorded_and_the_rest_are_sent(smtp, fleet):
    Team.objects.filter(pk=fleet["payments"].pk).update(email="payments@example.com\nBcc: evil@example.com")
    out, code = send_all()
    assert code == 1 and "team:payments" in out
    sent_to = {addr for m in smtp.messages for addr in m.rcpt_tos}
    assert "platform@example.com" in sent_to and "secops@example.com" in sent_to
    assert "evil@example.com" not in sent_to
    record = Digest.objects.get(group="team:payments", week=WEEK)
    assert record.status == "failed" and record.attempts == 1 and "recipient" in record.error
    # retried by the next run once the address is fixed; the others are not sent twice
    Team.objects.filter(pk=fleet["payments"].pk).update(email="payments@example.com")
    out, code = send_all()
    assert code == 0 and "team:payments 2026-W48: sent" in out and "team:platform 2026-W48: already sent" in out
    assert Digest.objects.get(group="team:payments", week=WEEK).attempts == 2


def test_a_rendering_crash_in_one_group_does_not_stop_the_batch(smtp, fleet, monkeypatch):
    from scanners.digest import services

    original = services.digest_prepare

    def fragile(*, group, week, now=None):
        if group == "team:payments":
            raise RuntimeError("template exploded")
        return original(group=group, week=week, now=now)

    monkeypatch.setattr(services, "digest_prepare", fragile)
    out, code = send_all()
    assert code == 1 and "team:payments" in out and "template exploded" in out
    assert len(smtp.messages) == 2  # platform and security
    assert Digest.objects.get(group="team:payments", week=WEEK).status == "failed"


@pytest.fixture
def repo_errors(fleet, tmp_path):
    payments_repo = Repository.objects.create(name="pay-repo", url="/srv/git/pay-repo")
    platform_repo = Repository.objects.create(name="plat-secret-repo", url="/srv/git/platform/internal")
    Bot.objects.get(name="pay-refunds").repositories.add(payments_repo)
    Bot.objects.get(name="plat-deployer").repositories.add(platform_repo)
    git = Connector.objects.create(name="git", kind="git")
    make_probe_run(connector=git, status="partial", at=IN_WEEK, error="\n".join([
        "repository plat-secret-repo: /srv/git/platform/internal: no such repository",
        f"repository pay-repo: https://bot:{CANARY}@git.example.com/pay.git: fetch failed",
    ]))
    make_probe_run(connector=git, status="failed", at=IN_WEEK,
                   error="repository plat-secret-repo: https://git.example.com/platform/secret.git: refused")
    return fleet


def _parts(group):
    rendered = digest_prepare(group=group, week=week_parse(WEEK)).rendered
    return rendered.text, rendered.html, rendered.body_html


def test_team_digest_shows_only_its_own_probe_errors(repo_errors):
    for part in _parts("team:payments"):
        assert "plat-secret-repo" not in part and "/srv/git/platform" not in part
        assert "git.example.com/platform" not in part and CANARY not in part
        assert "127.0.0.1:8210" not in part  # the vault connector's URL is no team's business
        assert "pay-repo" in part and "https://***@git.example.com/pay.git" in part
        assert "git" in part and "demo-vault" in part  # every failed probe is still listed
    for part in _parts("team:platform"):
        assert "pay-repo" not in part and "plat-secret-repo" in part and CANARY not in part


def test_security_summary_shows_every_error_redacted(repo_errors):
    for part in _parts("security"):
        assert "plat-secret-repo" in part and "127.0.0.1:8210" in part and CANARY not in part
