"""The audit spreadsheet's dates are written by the database as text: pin that they are exactly
`datetime.isoformat()` of the aware UTC value (fraction only when the microseconds are not 0), and that
age_days / rotation_overdue still come out right, on PostgreSQL and on SQLite (the demo's database).
Text cells are neutralised by the database too: checked on both."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from dashboard.spreadsheet import AUDIT_COLUMNS, audit_rows
from inventory.credentials import credential_age_days, credential_rotation_overdue
from inventory.models import Bot, Credential, Team
from scanners.models import AuditRun, BotScore

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 19, 26, 0, 123456, tzinfo=UTC)
IST = timezone(timedelta(hours=5, minutes=30))
DATES = {  # credential name: (created_at, last_rotated_at, last_used_at)
    "fraction": (datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), None, NOW - timedelta(microseconds=1)),
    "whole-second": (datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC), None),
    "trailing-zeros": (datetime(2026, 3, 4, 5, 6, 7, 120000, tzinfo=UTC), None, None),
    "other-zone": (datetime(2026, 8, 21, 1, 0, 0, 500, tzinfo=IST), datetime(2026, 9, 1, 4, 0, tzinfo=IST),
                   datetime(2026, 11, 20, 0, 30, tzinfo=IST)),
    "unknown": (None, None, None),
    "rotated-30-days-ago": (NOW - timedelta(days=400), NOW - timedelta(days=30), None),
    "rotated-almost-31-days-ago": (NOW - timedelta(days=400), NOW - timedelta(days=31, microseconds=-1), None),
    "rotated-31-days-ago": (NOW - timedelta(days=400), NOW - timedelta(days=31), None),
    "created-31-days-ago": (NOW - timedelta(days=31), None, None),
    "created-in-the-future": (NOW + timedelta(days=2), None, None),
}
FORMULA = "\t=cmd|' /C calc'!A0"
FINISHED = datetime(2026, 11, 19, 8, 0, 0, tzinfo=UTC)


def export_dates_check() -> int:
    """Create a bot with DATES, export it and compare every date cell; returns the rows checked."""
    team = Team.objects.create(name="dates", slug="dates")
    bot = Bot.objects.create(name="date-bot", slug="date-bot", team=team, environment="-prod",
                             owner_email="+owner@example.com")
    for name, (created, rotated, used) in DATES.items():
        Credential.objects.create(bot=bot, name=name, store="env_var", ref=name, rotation_days=30,
                                  created_at=created, last_rotated_at=rotated, last_used_at=used,
                                  service=FORMULA if name == "unknown" else "")
    BotScore.objects.create(bot=bot, audit_run=AuditRun.objects.create(status="ok", finished=FINISHED), score=5)
    rows = [dict(zip(AUDIT_COLUMNS, row, strict=True)) for row in audit_rows(bots=Bot.objects.all(), now=NOW)]
    assert sorted(r["credential"] for r in rows) == sorted(DATES)
    for row in rows:
        cred = Credential.objects.get(name=row["credential"])
        for column, value in (("created", cred.created_at), ("last_rotated", cred.last_rotated_at),
                              ("last_used", cred.last_used_at)):
            expected = value.astimezone(UTC).isoformat() if value else ""
            assert row[column] == expected, (row["credential"], column, row[column], expected)
        age = credential_age_days(cred, now=NOW)
        assert row["age_days"] == ("" if age is None else age), row
        assert row["rotation_overdue"] == ("yes" if credential_rotation_overdue(cred, now=NOW) else "no"), row
        assert row["last_audited"] == "2026-11-19T08:00:00+00:00"
    by_name = {r["credential"]: r for r in rows}
    assert by_name["unknown"]["service"] == "'" + FORMULA and by_name["fraction"]["service"] == ""
    assert {(r["team"], r["bot"], r["owner"], r["environment"]) for r in rows} == {
        ("dates", "date-bot", "'+owner@example.com", "'-prod")}
    assert by_name["fraction"]["created"] == "2026-01-02T03:04:05.123456+00:00"
    assert by_name["trailing-zeros"]["created"] == "2026-03-04T05:06:07.120000+00:00"
    assert by_name["other-zone"]["created"] == "2026-08-20T19:30:00.000500+00:00"
    assert by_name["whole-second"]["last_rotated"] == "2026-10-01T00:00:00+00:00"
    assert by_name["whole-second"]["rotation_overdue"] == "yes" and by_name["fraction"]["age_days"] == 322
    overdue = {name for name, row in by_name.items() if row["rotation_overdue"] == "yes"}
    assert overdue == {"fraction", "whole-second", "other-zone", "trailing-zeros", "created-31-days-ago",
                       "rotated-31-days-ago"}
    assert by_name["created-in-the-future"]["age_days"] == 0 and by_name["unknown"]["age_days"] == ""
    return len(rows)


def test_dates_are_isoformat_on_postgresql(db):
    assert export_dates_check() == len(DATES)


def test_dates_are_isoformat_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_SETTINGS_MODULE="botaudit.settings_test", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    code = ("import django; django.setup(); from django.core.management import call_command; "
            "from django.db import connection; call_command('migrate', verbosity=0); "
            "from tests.dashboard.test_export_dates import export_dates_check; "
            "print(connection.vendor, export_dates_check())")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["sqlite", str(len(DATES))]
