import json
from io import StringIO

import pytest
from django.core.management import call_command

from inventory.models import Bot, Credential, Team
from scanners.models import BotScore, Finding
from scanners.scoring import risk_band, score_findings
from scanners.services.audit import audit_run_in_process

pytestmark = pytest.mark.django_db


class F:
    def __init__(self, severity, check_id="c", subject="s", pk=1):
        self.severity, self.check_id, self.subject, self.pk = severity, check_id, subject, pk


def test_score_explains_every_point():
    score, breakdown = score_findings([F("critical"), F("high"), F("medium"), F("low"), F("info")])
    assert score == 40 + 20 + 8 + 2 + 0
    assert sum(i["points"] for i in breakdown["items"]) == score
    assert breakdown["by_severity"]["high"] == {"count": 1, "points": 20}
    assert breakdown["capped_at"] is None


def test_score_capped_at_100_and_says_so():
    score, breakdown = score_findings([F("critical")] * 3)
    assert score == 100 and breakdown["raw"] == 120 and breakdown["capped_at"] == 100


@pytest.mark.parametrize(("score", "band"), [(None, "unknown"), (0, "none"), (5, "low"), (20, "medium"),
                                             (50, "high"), (80, "critical")])
def test_risk_band(score, band):
    assert risk_band(score) == band


def test_inventory_checks_on_a_fleet(team, make_bot, make_credential):
    other_team = Team.objects.create(name="data", slug="data")
    live = make_bot("live-bot", environment="production")
    test_bot = make_bot("test-bot", environment="staging", bot_team=other_team)
    orphan = make_bot("orphan-bot", owner="")
    retired = make_bot("old-bot", owner="", status=Bot.Status.RETIRED)
    make_credential(live, "stripe", ref="arn:shared")
    make_credential(test_bot, "stripe", ref="arn:shared")
    make_credential(orphan, "envkey", store=Credential.Store.ENV_VAR, rotation_days=None)
    make_credential(orphan, "misc", store=Credential.Store.OTHER)
    make_credential(retired, "envkey", store=Credential.Store.ENV_VAR, rotation_days=None)

    run = audit_run_in_process()
    assert run.status == "ok"
    open_ = Finding.objects.filter(status="open")
    by_check = {}
    for f in open_:
        by_check.setdefault(f.check_id, set()).add((f.bot.name, f.severity))
    assert by_check["inventory.credential.shared_across_environments"] == {("live-bot", "high"), ("test-bot", "high")}
    assert by_check["inventory.credential.outside_secrets_manager"] == {("orphan-bot", "medium"), ("orphan-bot", "low")}
    assert by_check["inventory.credential.no_rotation_policy"] == {("orphan-bot", "low")}
    assert by_check["inventory.bot.no_owner"] == {("orphan-bot", "medium")}
    assert not open_.filter(bot=retired).exists()  # retired bots are not audited

    scores = {s.bot.name: s.score for s in BotScore.objects.filter(audit_run=run)}
    assert scores["live-bot"] == 20
    assert scores["orphan-bot"] == 8 + 2 + 2 + 8
    assert "old-bot" not in scores
    # Fix the inventory: the findings resolve on the next audit.
    orphan.owner_email = "bob@example.com"
    orphan.save()
    audit_run_in_process()
    assert Finding.objects.get(check_id="inventory.bot.no_owner").status == "resolved"


def test_audit_command_json_contract_and_exit_codes(make_bot, test_connector, test_probe):
    bot = make_bot("b1", owner="")
    test_probe.subjects = [("x", bot.pk)]
    out = StringIO()
    call_command("audit", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert set(data) >= {"audit_run", "probes", "findings"}
    assert {"connector": "test-conn", "kind": "testprobe", "unit": "", "account": None, "status": "ok",
            "error": None} in data["probes"]
    f = next(f for f in data["findings"] if f["check_id"] == "testprobe.thing.bad")
    assert set(f) == {"check_id", "severity", "category", "bot", "subject", "fingerprint", "status"}
    assert f["bot"] == "b1" and f["status"] == "open"

    test_probe.error = RuntimeError("down")
    with pytest.raises(SystemExit) as exc:
        call_command("audit", "--connector", "test-conn", stdout=StringIO())
    assert exc.value.code == 2


def test_audit_command_unknown_connector_is_clear():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="unknown connector.*nope"):
        call_command("audit", "--connector", "nope", stdout=StringIO())


def test_findings_command_formats(make_bot, make_credential):
    bot = make_bot("=HYPERLINK(1)", owner="")
    audit_run_in_process()
    out = StringIO()
    call_command("findings", "--format", "csv", "--status", "open", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("check_id,severity")
    assert any("'=HYPERLINK(1)" in line for line in lines[1:])
    out = StringIO()
    call_command("findings", "--format", "json", "--bot", bot.name, stdout=out)
    assert json.loads(out.getvalue())["findings"][0]["check_id"] == "inventory.bot.no_owner"
    out = StringIO()
    call_command("findings", stdout=out)
    assert "1 finding(s)" in out.getvalue()
