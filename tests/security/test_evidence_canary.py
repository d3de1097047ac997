"""Canary for the evidence rendering (dashboard/templatetags/evidence.py) and the bot page's "Why N":
a real secret leaked in a real git repository, found by a real audit, then every place the new
rendering shows evidence (chips, formatted JSON, the raw-JSON toggle, the why table) and the team
digest's bot table: the secret value never appears, only its redacted preview."""

import pytest

from inventory.accounts import user_grant
from inventory.models import Connector, Repository
from scanners.digest.services import digest_prepare
from scanners.digest.weeks import week_containing
from scanners.models import Finding
from scanners.services.audit import audit_run_in_process
from tests.scanners.git.gitrepo import Repo, github_pat


@pytest.fixture
def leaked(db, make_bot, tmp_path, settings):
    settings.BOTAUDIT_GIT_CACHE_DIR = str(tmp_path / "cache")
    secret = github_pat()
    repo = Repo(tmp_path / "payments-api")
    repo.commit({"deploy.env": f"GITHUB_TOKEN={secret}\n", "app.py": f"TOKENS = ['{secret}', 'x']\n"})
    Repository.objects.create(name="payments-api", url=str(repo.path), branches=["*"])
    bot = make_bot("invoice-bot")
    bot.repositories.add(Repository.objects.get(name="payments-api"))
    Connector.objects.create(name="git", kind="git", options={"repositories": ["*"]})
    run = audit_run_in_process()
    assert run.probe_runs.get(kind="git").status == "ok"
    return secret, bot


def test_no_secret_value_reaches_the_evidence_views(leaked, client):
    secret, bot = leaked
    finding = Finding.objects.get(check_id="git.secret.leaked", bot=bot)
    assert finding.evidence["redacted"].startswith(secret[:4]) and secret not in str(finding.evidence)
    auditor, _ = user_grant(email="aud@example.com", role="auditor")
    client.force_login(auditor)
    pages = {url: client.get(url).content.decode() for url in
             (f"/findings/{finding.pk}/", "/bots/invoice-bot/", "/findings/", "/leaks/")}
    for url, html in pages.items():
        assert secret not in html and secret[4:24] not in html, url
    assert "Raw evidence (JSON)" in pages[f"/findings/{finding.pk}/"]
    assert 'id="why"' in pages["/bots/invoice-bot/"]
    digest = digest_prepare(group=f"team:{bot.team.slug}", week=week_containing(finding.first_seen))
    for part in (digest.rendered.text, digest.rendered.body_html):
        assert secret not in part and "invoice-bot" in part
