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
    def __init__(self, severity, category="over_broad_access", check_id="c", subject="s", pk=1):
        self.severity, self.category, self.check_id, self.subject, self.pk = severity, category, check_id, subject, pk


def expected(*weights_percent):
    """The README formula, written out: 100 × (1 − Π(1 − w))."""
    left = 1.0
    for w in weights_percent:
        left *= 1 - w / 100
    return 100 * (1 - left)


def test_score_explains_every_point():
    score, breakdown = score_findings([F("critical"), F("high"), F("medium", "hygiene"), F("low", "stale_credential"),
                                       F("info")])
    raw = expected(30, 15, 5 * 0.7, 3 * 0.9)
    assert breakdown["raw"] == round(raw, 2) and score == round(raw) == 44
    assert sum(i["points"] for i in breakdown["items"]) == pytest.approx(raw, abs=0.05)  # every point explained
    assert [i["severity"] for i in breakdown["items"]] == ["critical", "high", "medium", "low", "info"]  # heavy first
    assert breakdown["items"][0]["points"] == 30 and breakdown["items"][1]["points"] == 10.5  # 15 % of the 70 left
    assert breakdown["items"][-1]["points"] == 0 and breakdown["items"][-1]["weight"] == 0  # info weighs nothing
    assert breakdown["by_severity"]["high"] == {"count": 1, "points": 10.5}
    assert "formula" in breakdown


def test_score_ranks_where_the_old_sum_saturated():
    """3 critical + 6 high against 1 critical + 3 high: both were 100 under the capped sum."""
    worse, _ = score_findings([F("critical")] * 3 + [F("high")] * 6)
    better, _ = score_findings([F("critical")] + [F("high")] * 3)
    assert worse == round(expected(30, 30, 30, 15, 15, 15, 15, 15, 15)) == 87
    assert better == round(expected(30, 15, 15, 15)) == 57
    assert 0 <= better < worse <= 100


def test_every_further_finding_adds_less_but_never_nothing():
    points = [i["points"] for i in score_findings([F("high", subject=str(n)) for n in range(40)])[1]["items"]]
    assert all(a > b > 0 for a, b in zip(points, points[1:], strict=False))
    assert score_findings([F("critical")] * 200)[0] == 100  # bounded: the score never passes 100
    assert score_findings([])[0] == 0 and score_findings([F("info")] * 50)[0] == 0


def test_leaks_and_over_broad_access_weigh_above_hygiene():
    def alone(*args):
        return score_findings([F(*args)])[1]["raw"]

    for severity in ("critical", "high", "medium", "low"):
        assert alone(severity, "leak") == alone(severity, "over_broad_access") > alone(severity, "stale_credential")
        assert alone(severity, "stale_credential") > alone(severity, "hygiene") == alone(severity, "inventory_gap")
    assert alone("critical", "leak") > alone("critical", "hygiene")  # a leak at the tip (critical) above hygiene


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
    assert scores["live-bot"] == round(expected(15))  # one high over-broad access
    # medium + low hygiene, low stale credential, medium inventory gap
    assert scores["orphan-bot"] == round(expected(5 * 0.7, 3 * 0.7, 3 * 0.9, 5 * 0.7)) == 11
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
