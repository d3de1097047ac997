"""Owner offboarding (OWASP NHI1): `owners:` and a team's `notify:` in the fleet manifest (validated,
planned, applied, exported so that export -> import is no change), the inventory.bot.owner_departed
finding, and the team digest listing bots whose owner left."""

import pytest
import yaml
from django.contrib.auth import get_user_model

from inventory.manifest import ManifestError, fleet_export, fleet_import, manifest_parse
from inventory.models import Owner, Team
from scanners.digest.render import digest_render
from scanners.digest.selectors import team_digest_build
from scanners.digest.weeks import week_containing
from scanners.models import Finding
from scanners.services.audit import audit_run_in_process

pytestmark = pytest.mark.django_db

FLEET = """
teams:
  - name: payments
    members: [alice@example.com, carol@example.com]
    notify: {webhook_url_env: PAYMENTS_WEBHOOK_URL, min_severity: critical, format: slack}
  - name: data
bots:
  - {name: invoice-bot, team: payments, owner: alice@example.com}
  - {name: ledger-bot, team: payments, owner: dave@example.com}
  - {name: etl-bot, team: data, owner: carol@example.com}
  - {name: stats-bot, team: data, owner: erin@example.com}
owners:
  dave@example.com: departed
  carol@example.com: {active: false}
  alice@example.com: active
"""


def _import(text, prune=False):
    return fleet_import(manifest=manifest_parse(text=text, source="fleet.yaml"), prune=prune)


def test_manifest_owners_and_notify_import_and_round_trip():
    _import(FLEET)
    assert dict(Owner.objects.values_list("email", "departed")) == {
        "alice@example.com": False, "carol@example.com": True, "dave@example.com": True}
    assert Team.objects.get(name="payments").notify == {
        "webhook_url_env": "PAYMENTS_WEBHOOK_URL", "min_severity": "critical", "format": "slack"}
    assert Team.objects.get(name="data").notify == {}
    exported = fleet_export()
    document = yaml.safe_load(exported)
    assert document["owners"] == {"alice@example.com": "active", "carol@example.com": "departed",
                                  "dave@example.com": "departed"}
    assert document["teams"][1]["notify"]["webhook_url_env"] == "PAYMENTS_WEBHOOK_URL"
    result = _import(exported, prune=True)
    assert result.plan.writes(prune=True) == []  # export -> import: no change
    changed = _import(exported.replace("dave@example.com: departed", "dave@example.com: active"))
    assert [line for line in changed.plan.lines(prune=False) if "owner" in line] == [
        "~ owner dave@example.com: departed true -> false"]
    assert Owner.objects.get(email="dave@example.com").departed is False


@pytest.mark.parametrize(("fragment", "message"), [
    ("owners: [dave@example.com]", "expected a mapping"),
    ("owners: {dave@example.com: gone}", "expected departed, active"),
    ("owners: {not-an-email: departed}", "not a valid email"),
    ("owners: {dave@example.com: {active: maybe}}", "expected true or false"),
])
def test_manifest_refuses_bad_owners(fragment, message):
    with pytest.raises(ManifestError, match=message):
        manifest_parse(text=f"teams: [{{name: t}}]\n{fragment}\n", source="fleet.yaml")


@pytest.mark.parametrize(("notify", "message"), [
    ("{webhook_url_env: 'https://hooks.slack.com/services/x'}", "environment variable"),
    ("{min_severity: high}", "missing required field"),
    ("{webhook_url_env: HOOK, min_severity: urgent}", "unknown severity"),
    ("{webhook_url_env: HOOK, format: xml}", "unknown format"),
    ("{webhook_url_env: HOOK, url: x}", "unknown field"),
])
def test_manifest_refuses_bad_notify(notify, message):
    with pytest.raises(ManifestError, match=message):
        manifest_parse(text=f"teams: [{{name: t, notify: {notify}}}]\n", source="fleet.yaml")


def test_owner_departed_finding_and_team_digest():
    _import(FLEET)  # users alice and carol exist (members); dave and erin are no BotAudit users
    carol = get_user_model().objects.get(username="carol@example.com")
    run = audit_run_in_process()
    assert run.status == "ok"
    found = {f.bot.name: f for f in Finding.objects.filter(check_id="inventory.bot.owner_departed")}
    assert set(found) == {"ledger-bot", "etl-bot", "stats-bot"}  # alice is active and not departed
    assert (found["ledger-bot"].severity, found["ledger-bot"].evidence["reason"]) == (
        "high", "marked departed in the fleet manifest")
    assert found["etl-bot"].severity == "high"  # an active user, but marked departed
    assert (found["stats-bot"].severity, found["stats-bot"].evidence["reason"]) == (
        "medium", "not an active BotAudit user")
    assert found["stats-bot"].owasp_nhi == "NHI1" and found["stats-bot"].remediation

    # erin becomes a user; carol is back: both findings resolve on the next audit
    get_user_model().objects.create_user(username="erin@example.com", email="erin@example.com")
    _import(FLEET.replace("carol@example.com: {active: false}", "carol@example.com: active"))
    carol.is_active = False  # ...but carol's account was switched off meanwhile: still offboarded
    carol.save()
    audit_run_in_process()
    open_ = set(Finding.objects.filter(check_id="inventory.bot.owner_departed", status="open")
                .values_list("bot__name", flat=True))
    assert open_ == {"ledger-bot", "etl-bot"}

    data = team_digest_build(team=Team.objects.get(name="payments"), week=week_containing(run.started))
    assert [(o["bot"], o["owner"]) for o in data["triage"]["owners_departed"]] == [
        ("ledger-bot", "dave@example.com")]
    text = digest_render(data).text
    assert "BOTS WHOSE OWNER LEFT (1)" in text and "ledger-bot (payments): owner dave@example.com" in text
