"""The fleet manifest: `manage.py fleet import|export` and the services behind it."""

import textwrap
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from inventory.manifest import ManifestError, fleet_export, fleet_import, fleet_plan, manifest_load, manifest_parse
from inventory.manifest.loader import yaml_load
from inventory.models import AuditLogEntry, Bot, Connector, Credential, Identity, Repository, Team

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fleet.yaml"
User = get_user_model()

MINI = """\
teams:
  - {name: payments, email: payments@example.com, members: [carol@example.com]}
repositories:
  - {name: invoice-bot, url: demo/repos/invoice-bot, branches: ["*"]}
connectors:
  - {name: prod-aws, kind: aws, regions: [us-east-1], endpoint_url: null}
bots:
  - name: invoice-bot
    team: payments
    owner: alice@example.com
    environment: production
    description: Sends invoices
    identities: [{kind: aws_iam_role, ref: "arn:aws:iam::123456789012:role/invoice-bot"}]
    credentials:
      - {name: stripe-key, store: aws_secretsmanager, ref: "arn:aws:secretsmanager:us-east-1:123456789012:secret:s",
         service: stripe, rotation_days: 90}
      - {name: old-key, store: env_var, ref: OLD_KEY}
    repositories: [invoice-bot]
"""


def write(tmp_path, text, name="fleet.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def fleet(*args):
    out = StringIO()
    call_command("fleet", *[str(arg) for arg in args], stdout=out, stderr=StringIO())
    return out.getvalue()


def snapshot():
    """Everything the import may touch, pks included (so a delete + re-create shows)."""
    return {
        "teams": list(Team.objects.order_by("name").values("pk", "name", "slug", "email")),
        "members": sorted(Team.members.through.objects.values_list("team__name", "user__username")),
        "repositories": list(Repository.objects.order_by("name").values("pk", "name", "url", "branches")),
        "connectors": list(Connector.objects.order_by("name").values("pk", "name", "kind", "enabled", "options")),
        "bots": list(Bot.objects.order_by("name").values(
            "pk", "name", "slug", "team__name", "owner_email", "environment", "description", "status")),
        "bot_repositories": sorted(Bot.repositories.through.objects.values_list("bot__name", "repository__name")),
        "credentials": list(Credential.objects.order_by("bot__name", "name").values(
            "pk", "bot__name", "name", "store", "ref", "service", "rotation_days")),
        "identities": sorted(Identity.objects.values_list("pk", "bot__name", "kind", "ref")),
        "users": sorted(User.objects.values_list("pk", "username", "email")),
    }


def counts():
    return {model.__name__: model.objects.count()
            for model in (Team, Repository, Connector, Bot, Credential, Identity, User, AuditLogEntry)}


# --- import -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_import_example_creates_the_fleet():
    out = fleet("import", EXAMPLE)

    assert counts() == {"Team": 4, "Repository": 7, "Connector": 3, "Bot": 20, "Credential": 26,
                        "Identity": 19, "User": 7, "AuditLogEntry": 1}
    assert "+ bot invoice-bot\n" in out
    assert "+ credential invoice-bot/stripe-key\n" in out
    assert out.strip().endswith("86 created, 0 updated, 0 removed.")
    invoice = Bot.objects.get(name="invoice-bot")
    assert (invoice.slug, invoice.team.name, invoice.owner_email) == ("invoice-bot", "payments", "alice@example.com")
    assert list(invoice.repositories.values_list("name", flat=True)) == ["invoice-bot"]
    assert Bot.objects.get(name="old-analytics-exporter").status == Bot.Status.RETIRED
    assert Bot.objects.filter(owner_email="").count() == 2
    shared = Credential.objects.filter(ref="secret/payments/stripe")
    assert sorted(shared.values_list("bot__environment", flat=True)) == ["production", "staging"]
    aws = Connector.objects.get(name="demo-aws")
    assert (aws.kind, aws.enabled) == ("aws", True)
    assert aws.options == {"regions": ["us-east-1"], "assume_role": None, "endpoint_url": "http://127.0.0.1:5055"}
    entry = AuditLogEntry.objects.get()
    assert (entry.action, entry.target) == ("fleet.import", str(EXAMPLE))
    assert entry.detail["created"] == {"user": 7, "team": 4, "repository": 7, "connector": 3, "bot": 20,
                                       "credential": 26, "identity": 19}


@pytest.mark.django_db
def test_second_import_changes_nothing():
    fleet("import", EXAMPLE)
    before = snapshot()

    out = fleet("import", EXAMPLE)

    assert out == "No changes.\n"
    assert snapshot() == before
    assert AuditLogEntry.objects.count() == 1  # a no-op import is not logged


@pytest.mark.django_db
def test_dry_run_prints_the_plan_and_writes_nothing():
    out = fleet("import", EXAMPLE, "--dry-run")

    assert "+ team payments\n" in out
    assert "+ user carol@example.com\n" in out
    assert "+ identity invoice-bot/vault_approle:invoice-bot\n" in out
    assert out.strip().endswith("Dry run: 86 to create, 0 to update, 0 to remove; nothing written.")
    assert set(counts().values()) == {0}


@pytest.mark.django_db
def test_update_shows_field_diffs_then_applies_them(tmp_path):
    fleet("import", write(tmp_path, MINI))
    changed = MINI.replace("owner: alice@example.com", "owner: bob@example.com").replace(
        "rotation_days: 90", "rotation_days: 30").replace("regions: [us-east-1]", "regions: [us-east-1, eu-west-1]")
    path = write(tmp_path, changed, "changed.yaml")
    before = snapshot()

    plan = fleet("import", path, "--dry-run")

    assert plan.splitlines() == [
        '~ connector prod-aws: regions ["us-east-1"] -> ["us-east-1", "eu-west-1"]',
        "~ bot invoice-bot: owner alice@example.com -> bob@example.com",
        "~ credential invoice-bot/stripe-key: rotation_days 90 -> 30",
        "Dry run: 0 to create, 3 to update, 0 to remove; nothing written.",
    ]
    assert snapshot() == before

    out = fleet("import", path)

    assert out.strip().endswith("0 created, 3 updated, 0 removed.")
    bot = Bot.objects.get(name="invoice-bot")
    assert bot.owner_email == "bob@example.com"
    assert bot.pk == before["bots"][0]["pk"]
    assert Credential.objects.get(name="stripe-key").rotation_days == 30
    assert AuditLogEntry.objects.first().detail["updated"] == {"connector": 1, "bot": 1, "credential": 1}
    assert fleet("import", path) == "No changes.\n"


@pytest.mark.django_db
def test_missing_objects_are_reported_and_only_removed_with_prune(tmp_path):
    fleet("import", write(tmp_path, MINI))
    smaller = MINI.replace("      - {name: old-key, store: env_var, ref: OLD_KEY}\n", "")
    connectors = MINI[MINI.index("connectors:"):MINI.index("bots:")]
    smaller = smaller.replace(connectors, "")
    path = write(tmp_path, smaller, "smaller.yaml")
    before = snapshot()

    out = fleet("import", path)

    assert out.splitlines() == [
        "! connector prod-aws: not in the manifest (kept; --prune removes it)",
        "! credential invoice-bot/old-key: not in the manifest (kept; --prune removes it)",
        "No changes. 2 not in the manifest kept (use --prune to remove).",
    ]
    assert snapshot() == before

    plan = fleet("import", path, "--prune", "--dry-run")

    assert "- connector prod-aws\n" in plan
    assert "- credential invoice-bot/old-key\n" in plan
    assert snapshot() == before

    out = fleet("import", path, "--prune")

    assert out.strip().endswith("0 created, 0 updated, 2 removed.")
    assert not Connector.objects.exists()
    assert list(Credential.objects.values_list("name", flat=True)) == ["stripe-key"]
    assert fleet("import", path, "--prune") == "No changes.\n"


@pytest.mark.django_db
def test_prune_removes_bots_before_their_teams_and_moves_bots_off_removed_teams(tmp_path):
    fleet("import", EXAMPLE)
    renamed = MINI.replace("name: payments,", "name: billing,").replace("team: payments", "team: billing")

    out = fleet("import", write(tmp_path, renamed), "--prune")

    assert "- bot deploy-bot (with 2 credentials, 2 identities)\n" in out
    assert "~ bot invoice-bot: team payments -> billing\n" in out
    assert "- team payments\n" in out
    assert sorted(Team.objects.values_list("name", flat=True)) == ["billing"]
    assert list(Bot.objects.values_list("name", "team__name")) == [("invoice-bot", "billing")]
    assert User.objects.count() == 7  # users are never removed


@pytest.mark.django_db
def test_empty_manifest_with_prune_empties_the_inventory(tmp_path):
    fleet("import", EXAMPLE)

    fleet("import", write(tmp_path, "teams: []\n"), "--prune")

    assert {name: n for name, n in counts().items() if n} == {"User": 7, "AuditLogEntry": 2}


# --- members ----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_members_become_users_with_unusable_passwords(tmp_path):
    fleet("import", write(tmp_path, MINI))

    carol = User.objects.get(username="carol@example.com")
    assert carol.email == "carol@example.com"
    assert not carol.has_usable_password()
    assert list(Team.objects.get(name="payments").members.all()) == [carol]


@pytest.mark.django_db
def test_members_match_existing_users_by_email_and_membership_is_exact(tmp_path):
    carol = User.objects.create_user(username="carol", email="Carol@Example.com", password="x")
    team = Team.objects.create(name="payments", slug="payments", email="payments@example.com")
    dave = User.objects.create_user(username="dave@example.com", email="dave@example.com")
    team.members.add(dave)

    out = fleet("import", write(tmp_path, MINI))

    assert "~ team payments: members [\"dave@example.com\"] -> [\"carol@example.com\"]\n" in out
    assert "+ user" not in out
    assert list(team.members.all()) == [carol]
    assert User.objects.count() == 2
    assert "members:\n      - carol@example.com\n" in fleet_export()


@pytest.mark.django_db
def test_teams_without_members_key_leave_membership_alone(tmp_path):
    team = Team.objects.create(name="payments", slug="payments", email="payments@example.com")
    dave = User.objects.create_user(username="dave@example.com", email="dave@example.com")
    team.members.add(dave)
    text = MINI.replace(", members: [carol@example.com]", "")

    fleet("import", write(tmp_path, text))

    assert list(team.members.all()) == [dave]


# --- errors -----------------------------------------------------------------------------------

HEAD = """\
teams:
  - {name: payments, email: payments@example.com}
repositories:
  - {name: invoice-bot, url: demo/repos/invoice-bot}
bots:
  - name: invoice-bot
    team: payments
"""

ERROR_CASES = {
    "unknown team": (
        HEAD.replace("team: payments", "team: paymnts"),
        "7: bots[0].team: unknown team 'paymnts' (expected one of payments)"),
    "duplicate bot": (
        HEAD + "  - name: invoice-bot\n    team: payments\n",
        "8: bots[1].name: duplicate bot name 'invoice-bot' (first on line 6)"),
    "duplicate team": (
        HEAD.replace("teams:\n", "teams:\n  - {name: payments}\n"),
        "3: teams[1].name: duplicate team name 'payments' (first on line 2)"),
    "duplicate repository": (
        HEAD.replace("repositories:\n", "repositories:\n  - {name: invoice-bot, url: x}\n"),
        "5: repositories[1].name: duplicate repository name 'invoice-bot' (first on line 4)"),
    "duplicate connector": (
        HEAD + "connectors:\n  - {name: c, kind: git}\n  - {name: c, kind: aws}\n",
        "10: connectors[1].name: duplicate connector name 'c' (first on line 9)"),
    "duplicate credential": (
        HEAD + "    credentials:\n      - {name: k, store: env_var}\n      - {name: k, store: other}\n",
        "10: bots[0].credentials[1].name: duplicate credential name 'k' (first on line 9)"),
    "unknown store": (
        HEAD + "    credentials:\n      - {name: k, store: vault_kvv, ref: secret/x}\n",
        "9: bots[0].credentials[0].store: unknown store 'vault_kvv' (expected one of aws_secretsmanager, "
        "vault_kv, env_var, config_file, ci_variable, other)"),
    "unknown identity kind": (
        HEAD + "    identities:\n      - kind: aws_iam_group\n        ref: x\n",
        "9: bots[0].identities[0].kind: unknown identity kind 'aws_iam_group'"),
    "unknown connector kind": (
        HEAD + "connectors:\n  - {name: c, kind: azure}\n",
        "9: connectors[0].kind: unknown connector kind 'azure' (expected one of aws, vault, git)"),
    "unknown repository": (
        HEAD + "    repositories:\n      - invoice-bot\n      - nope\n",
        "10: bots[0].repositories[1]: unknown repository 'nope' (expected one of invoice-bot)"),
    "missing required field": (
        HEAD + "  - name: other-bot\n    owner: bob@example.com\n",
        "8: bots[1].team: missing required field"),
    "wrong type": (
        HEAD + "    credentials:\n      - name: k\n        store: env_var\n        rotation_days: '90'\n",
        "11: bots[0].credentials[0].rotation_days: expected an integer, got string"),
    "unknown field": (
        HEAD + "    ownr: bob@example.com\n",
        "8: bots[0].ownr: unknown field"),
    "duplicate key": (
        HEAD + "    team: payments\n",
        "8: bots[0].team: duplicate key"),
    "bad email": (
        HEAD + "    owner: bob\n",
        "8: bots[0].owner: 'bob' is not a valid email address"),
    "not a mapping": (
        HEAD + "  - invoice-bot\n",
        "8: bots[1]: expected a mapping, got string"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", ERROR_CASES, ids=list(ERROR_CASES))
def test_errors_name_file_line_and_field_and_write_nothing(tmp_path, case):
    text, expected = ERROR_CASES[case]
    path = write(tmp_path, text)

    with pytest.raises(CommandError) as excinfo:
        fleet("import", path)

    assert f"{path}:{expected}" in str(excinfo.value)
    assert set(counts().values()) == {0}  # the valid team, repository and bot were not written either


@pytest.mark.django_db
def test_all_errors_are_collected_and_existing_inventory_is_untouched(tmp_path):
    fleet("import", EXAMPLE)
    before = snapshot()
    broken = EXAMPLE.read_text().replace("store: vault_kv, ref: secret/platform/acme", "store: vault, ref: x")
    broken = broken.replace("team: support\n    owner: ivan@example.com", "team: suport\n    owner: ivan@example.com")
    path = write(tmp_path, broken.replace("owner: alice@example.com", "owner: alice"))

    with pytest.raises(CommandError) as excinfo:
        fleet("import", path, "--prune")

    lines = str(excinfo.value).splitlines()
    assert lines[0] == f"{path}: not imported, nothing written."
    assert sum(".owner: 'alice' is not a valid email address" in line for line in lines) == 2
    assert any(".credentials[0].store: unknown store 'vault'" in line for line in lines)
    assert sum(".team: unknown team 'suport'" in line for line in lines) == 2
    assert snapshot() == before
    assert AuditLogEntry.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "line"), [
    ("bots:\n  - name: x\n    team: [payments\n", 4),
    ("bots:\n  - name: a\n    team: b\n   name: c\n", 4),
    ("teams:\n\t- {name: payments}\n", 2),
])
def test_yaml_syntax_error_names_the_line(tmp_path, text, line):
    path = write(tmp_path, text)

    with pytest.raises(CommandError) as excinfo:
        fleet("import", path)

    assert f"{path}:{line}: YAML syntax error: " in str(excinfo.value)


def test_unreadable_file_is_an_error(tmp_path):
    with pytest.raises(ManifestError, match="cannot read"):
        manifest_load(path=tmp_path / "missing.yaml")


@pytest.mark.django_db
def test_new_name_whose_slug_is_taken_is_an_error(tmp_path, team):
    Bot.objects.create(name="Invoice Bot", slug="invoice-bot", team=team)
    manifest = manifest_parse(text=MINI, source="fleet.yaml")

    with pytest.raises(ManifestError, match=r"fleet.yaml:8: bots\[0\].name: slug 'invoice-bot' is already used"):
        fleet_plan(manifest=manifest)


def test_loader_records_lines_of_mappings_keys_and_items():
    data = yaml_load(text="a: 1\nb:\n  - x\n  - {c: 2,\n     d: [1, 2]}\n", source="f.yaml")

    assert (data.line, data.key_lines) == (1, {"a": 1, "b": 2})
    assert data["b"].item_lines == [3, 4]
    assert data["b"][1].key_lines == {"c": 4, "d": 5}
    assert data == {"a": 1, "b": ["x", {"c": 2, "d": [1, 2]}]}


# --- export -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_export_then_import_round_trips_with_no_change(tmp_path):
    fleet("import", EXAMPLE)
    before = snapshot()
    path = tmp_path / "exported.yaml"

    fleet("export", path)

    assert fleet("import", path, "--prune") == "No changes.\n"
    assert snapshot() == before
    text = path.read_text()
    assert text == fleet("export") == fleet_export()  # deterministic; stdout matches the file
    assert "!!" not in text and "{" not in text  # block style, no python tags
    document = yaml.safe_load(text)
    assert [team["name"] for team in document["teams"]] == ["data", "payments", "platform", "support"]
    assert [bot["name"] for bot in document["bots"]] == sorted(bot["name"] for bot in document["bots"])


@pytest.mark.django_db
def test_export_of_hand_made_inventory_round_trips(tmp_path, make_bot, make_credential):
    bot = make_bot("Weird Bot", owner="", environment="", description="line one\nline two\n")
    bot.slug = "weird-bot"
    bot.save()
    Credential.objects.create(bot=bot, name="no-ref", store=Credential.Store.OTHER)
    make_credential(bot, "quoted", ref="=cmd|' /C calc'!A0", rotation_days=7)
    Identity.objects.create(bot=bot, kind=Identity.Kind.VAULT_ENTITY, ref="weird")
    Connector.objects.create(name="off", kind="vault", enabled=False, options={"url": "http://v:8200", "n": 1.5})
    Repository.objects.create(name="r", url="/srv/git/r.git")
    bot.repositories.add(Repository.objects.get(name="r"))
    before = snapshot()

    result = fleet_import(manifest=manifest_parse(text=fleet_export(), source="export.yaml"), prune=True)

    assert result.plan.writes(prune=True) == []
    assert snapshot() == before
    assert "description: |\n      line one\n      line two\n" in fleet_export()


@pytest.mark.django_db
def test_export_writes_only_the_listed_fields(make_bot, make_credential):
    from django.utils import timezone

    make_credential(make_bot("b"), "k", last_used_at=timezone.now(), observed_at=timezone.now())
    document = yaml.safe_load(fleet_export())

    assert document["bots"][0]["credentials"] == [
        {"name": "k", "store": "aws_secretsmanager", "ref": "ref/b/k", "rotation_days": 90}]
