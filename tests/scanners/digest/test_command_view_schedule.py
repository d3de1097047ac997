"""send_digest, the auditor's preview page and the Monday schedule."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from scanners.models import Digest
from scanners.services.schedules import DIGEST_TASK_NAME, schedules_setup

from .conftest import WEEK


def _run(*args) -> str:
    out = StringIO()
    call_command("send_digest", *args, stdout=out)
    return out.getvalue()


def test_dry_run_prints_and_records_nothing(smtp, fleet):
    out = _run("--week", WEEK, "--team", "payments", "--dry-run")
    assert "To: alice@example.com, bob@example.com, payments@example.com" in out
    assert "Subject: [BotAudit] payments: 2 critical, 5 high open \u2014 week 2026-W48" in out
    assert "CRITICAL AND HIGH STILL OPEN" in out and "plat-deployer" not in out
    assert "dry run: nothing sent, nothing recorded (1 digests for 2026-W48)" in out
    assert smtp.messages == [] and not Digest.objects.exists()


def test_send_all_then_again(smtp, fleet):
    out = _run("--week", WEEK)
    assert "team:payments 2026-W48: sent" in out and "team:platform 2026-W48: sent" in out
    assert "security 2026-W48: sent" in out
    assert len(smtp.messages) == 3
    again = _run("--week", WEEK, "--team", "payments")
    assert again.strip() == "team:payments 2026-W48: already sent"
    assert len(smtp.messages) == 3


def test_smtp_failure_exits_nonzero_and_is_recorded(smtp, fleet):
    smtp.fail_next = 1
    with pytest.raises(CommandError, match="sending failed for team:payments"):
        _run("--week", WEEK, "--team", "payments")
    assert Digest.objects.get(group="team:payments").status == "failed"
    assert "team:payments 2026-W48: sent" in _run("--week", WEEK, "--team", "payments")


def test_bad_arguments_are_named(db, fleet):
    with pytest.raises(CommandError, match="--week: week '48'"):
        _run("--week", "48")
    with pytest.raises(CommandError, match="--team 'nobody': no such team .known: payments, platform"):
        _run("--team", "nobody")


def test_preview_is_for_auditors_only(client, fleet):
    url = f"/digest/payments/?week={WEEK}"
    assert client.get(url).status_code == 302  # login first
    viewer = User.objects.create_user("viewer", password="pw")
    fleet["payments"].members.add(viewer)
    client.force_login(viewer)
    assert client.get(url).status_code == 403
    assert client.get("/digest/").status_code == 403
    auditor = User.objects.create_user("auditor", password="pw")
    auditor.groups.add(Group.objects.create(name="auditor"))
    client.force_login(auditor)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "[BotAudit] payments: 2 critical, 5 high open" in html and "Critical thing 0" in html
    assert "plat-deployer" not in html.split("digest-html")[1]  # the digest itself stays scoped
    assert "security summary" in client.get(f"/digest/?week={WEEK}").content.decode()
    assert client.get("/digest/nobody/").status_code == 404
    bad = client.get("/digest/payments/?week=last")
    assert bad.status_code == 400 and "2026-W48" in bad.content.decode()


def test_setup_schedules_creates_monday_8_and_keeps_admin_edits(db, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    out = StringIO()
    call_command("setup_schedules", stdout=out)
    assert f"created: {DIGEST_TASK_NAME}" in out.getvalue()
    task = PeriodicTask.objects.get(name=DIGEST_TASK_NAME)
    assert task.task == "botaudit.digest.send_weekly_digests"
    cron = task.crontab
    assert (cron.minute, cron.hour, cron.day_of_week, str(cron.timezone)) == ("0", "8", "1", "Europe/Berlin")
    task.crontab = type(cron).objects.create(minute="30", hour="6", day_of_week="1", timezone="Europe/Berlin")
    task.save()
    assert (DIGEST_TASK_NAME, False) in schedules_setup()
    assert PeriodicTask.objects.get(name=DIGEST_TASK_NAME).crontab.hour == "6"  # the admin's edit stays
    assert PeriodicTask.objects.filter(name=DIGEST_TASK_NAME).count() == 1
