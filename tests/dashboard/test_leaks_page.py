"""The Leaks pages over real git probe runs: one row per secret, scoped to the viewer's teams in
rows, counts and filter choices; filters; the detail and the bot page list locations; triage from
the finding page covers the leak; no secret value reaches any page, command output or export."""

import io
import json

import pytest
from django.core.management import call_command

from dashboard.leaks import leak_findings_visible
from inventory.models import Connector, Repository
from scanners.git.models import GitLeakRecord
from scanners.models import Finding
from scanners.redaction import secret_fingerprint
from scanners.services.audit import audit_run_in_process
from tests.scanners.git.gitrepo import Repo, github_pat, stripe_live

LEAKED = "git.secret.leaked"


@pytest.fixture
def leaks(world, tmp_path):
    """pay-repo (pay-bot, team payments) and plat-repo (plat-bot, team platform) share a token;
    each also leaks a secret of its own."""
    shared, pay_only, plat_only = github_pat(), stripe_live(), github_pat()
    pay, plat = Repo(tmp_path / "pay-repo"), Repo(tmp_path / "plat-repo")
    pay.commit({"app.py": f"T = '{shared}'\n", "billing.py": f"S = '{pay_only}'\n"})
    pay.commit({"billing.py": "S = env('S')\n"})
    plat.commit({"ci/deploy.sh": f"export T={shared}\n", "tools/x.py": f"T = '{plat_only}'\n"})
    for name, repo, bot in (("pay-repo", pay, world["bot_a"]), ("plat-repo", plat, world["bot_b"])):
        bot.repositories.add(Repository.objects.create(name=name, url=str(repo.path), branches=["*"]))
    Connector.objects.create(name="git", kind="git", options={"repositories": ["*"]})
    run = audit_run_in_process(connector_names=["git"])
    assert set(run.probe_runs.filter(kind="git").values_list("status", flat=True)) == {"ok"}  # one unit per repo
    return {"shared": shared, "pay_only": pay_only, "plat_only": plat_only, "world": world,
            "fp": {k: secret_fingerprint(v) for k, v in (("shared", shared), ("pay_only", pay_only),
                                                           ("plat_only", plat_only))}}


def rows(client, query=""):
    response = client.get(f"/leaks/?{query}")
    assert response.status_code == 200
    table = response.context["table"]
    return {r.record["sfp"]: r.record for r in table.page.object_list}, response


def test_one_row_per_secret_scoped_to_the_viewer(leaks, login):
    fp, users = leaks["fp"], leaks["world"]["users"]
    found, response = rows(login(users["auditor"]))
    assert set(found) == set(fp.values())
    shared = found[fp["shared"]]
    assert (shared["bots"], shared["locations"], shared["active"], shared["open"]) == (2, 2, 1, 2)
    assert json.loads(shared["repositories"]) == ["pay-repo", "plat-repo"]
    assert found[fp["pay_only"]]["active"] == 0 and found[fp["pay_only"]]["severity_rank"] == 1  # high
    html = response.content.decode()
    assert "pay-bot" in html and "plat-bot" in html and "3 leaks" in html

    found, response = rows(login(users["viewer_a"]))
    assert set(found) == {fp["shared"], fp["pay_only"]}  # never plat-bot's own secret
    assert found[fp["shared"]]["bots"] == 1 and found[fp["shared"]]["open"] == 1
    html = response.content.decode()
    assert "plat-bot" not in html and "2 leaks" in html
    form = response.context["filter"].form
    assert [t.slug for t in form.fields["team"].queryset] == ["payments"]
    assert [r.name for r in form.fields["repository"].queryset] == ["pay-repo"]
    assert login(users["viewer_a"]).get(f"/leaks/{fp['plat_only']}/").status_code == 404
    assert login(users["viewer_b"]).get(f"/leaks/{fp['pay_only']}/").status_code == 404


@pytest.mark.parametrize(("query", "expected"), [
    ("active=yes", {"shared", "plat_only"}),
    ("active=no", {"pay_only"}),
    ("repository=plat-repo", {"shared", "plat_only"}),
    ("team=payments", {"shared", "pay_only"}),
    ("q=stripe", {"pay_only"}),
    ("q=plat-bot", {"shared", "plat_only"}),
    ("confidence=high", {"shared", "pay_only", "plat_only"}),
    ("confidence=low", set()),
])
def test_filters(leaks, login, query, expected):
    found, _ = rows(login(leaks["world"]["users"]["auditor"]), query)
    assert set(found) == {leaks["fp"][k] for k in expected}


def test_low_confidence_filter_and_severity(leaks, login):
    GitLeakRecord.objects.filter(secret_fingerprint=leaks["fp"]["pay_only"]).update(confidence="low",
                                                                                      reasons=["test path"])
    audit_run_in_process(connector_names=["git"])
    found, _ = rows(login(leaks["world"]["users"]["auditor"]), "confidence=low")
    (row,) = found.values()
    assert row["sfp"] == leaks["fp"]["pay_only"] and row["severity_rank"] == 4 and row["confidence_rank"] == 2


def test_bad_filter_values_are_named(leaks, login):
    response = login(leaks["world"]["users"]["auditor"]).get("/leaks/?confidence=sure&repository=nope")
    assert response.status_code == 200
    errors = response.context["filter"].form.errors
    assert set(errors) == {"confidence", "repository"}


def test_detail_bot_page_and_triage_cover_the_leak(leaks, login):
    fp, users, world = leaks["fp"], leaks["world"]["users"], leaks["world"]
    auditor = login(users["auditor"])
    html = auditor.get(f"/leaks/{fp['shared']}/").content.decode()
    assert "app.py" in html and "ci/deploy.sh" in html and "2 locations" in html
    assert "pay-bot" in html and "plat-bot" in html
    bot_page = auditor.get(f"/bots/{world['bot_a'].slug}/").content.decode()
    assert "app.py" in bot_page and "billing.py" in bot_page and f"/leaks/{fp['shared']}/" in bot_page
    mine = Finding.objects.get(check_id=LEAKED, bot=world["bot_a"], subject__contains=fp["shared"][:24])
    response = auditor.post("/findings/triage/", {"pk": [mine.pk], "action": "false_positive",
                                                  "reason": "test token", "next": f"/leaks/{fp['shared']}/"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == "false_positive"
    found, _ = rows(auditor)
    assert found[fp["shared"]]["open"] == 1  # plat-bot's finding of the same secret is its own to triage
    audit_run_in_process(connector_names=["git"])
    mine.refresh_from_db()
    assert mine.status == "false_positive" and mine.evidence["location_count"] == 2


def test_no_secret_value_in_pages_commands_or_exports(leaks, login):
    canaries = [leaks["shared"], leaks["pay_only"], leaks["plat_only"]]
    auditor = login(leaks["world"]["users"]["auditor"])
    out = [auditor.get(url).content.decode() for url in (
        "/leaks/", "/leaks/?q=ghp", *(f"/leaks/{fp}/" for fp in leaks["fp"].values()),
        f"/bots/{leaks['world']['bot_a'].slug}/", f"/bots/{leaks['world']['bot_b'].slug}/", "/findings/")]
    out += [auditor.get(f"/findings/{f.pk}/").content.decode() for f in Finding.objects.filter(check_id=LEAKED)]
    out.append(b"".join(auditor.get("/export/findings.csv").streaming_content).decode())
    for fmt in ("json", "csv", "table"):
        buf = io.StringIO()
        call_command("findings", "--format", fmt, stdout=buf)
        out.append(buf.getvalue())
    buf = io.StringIO()
    call_command("audit", "--connector", "git", "--json", stdout=buf)
    out.append(buf.getvalue())
    assert json.loads(out[-1])["findings"] and all("pay-repo" not in f["subject"] for f in json.loads(out[-1])[
        "findings"])  # subjects hold ids, not names
    text = "\n".join(out)
    assert leaks["fp"]["shared"][:24] in text  # the outputs are really about these leaks
    for canary in canaries:
        assert canary not in text and canary[4:20] not in text


def test_leak_findings_visible_for_anonymous_is_empty(db):
    from django.contrib.auth.models import AnonymousUser

    assert list(leak_findings_visible(user=AnonymousUser())) == []
