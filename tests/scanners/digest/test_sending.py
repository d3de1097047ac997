"""Exactly once: racing workers, a duplicate beat tick, a retried task, SMTP errors and their retries."""

import threading
import time

import pytest
from django.db import connection

from scanners.digest.services import digest_send
from scanners.digest.tasks import send_digest_group, send_weekly_digests
from scanners.models import Digest

from .conftest import NOW, WEEK


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_send_one_email(smtp, fleet):
    smtp.delay = 1.0  # the first sender holds the claim while the SMTP server is slow
    barrier, outcomes = threading.Barrier(2), []

    def worker():
        try:
            barrier.wait()
            outcomes.append(digest_send(group="team:payments", week=WEEK, now=NOW))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) in (["busy", "sent"], ["already sent", "sent"])
    assert len(smtp.messages) == 1
    record = Digest.objects.get(group="team:payments", week=WEEK)
    assert (record.status, record.attempts) == ("sent", 1)


def test_a_retried_task_after_success_sends_nothing(smtp, fleet):
    assert send_digest_group.apply(kwargs={"group": "team:payments", "week": WEEK}).get() == "sent"
    assert send_digest_group.apply(kwargs={"group": "team:payments", "week": WEEK}).get() == "already sent"
    assert len(smtp.messages) == 1
    assert Digest.objects.get(group="team:payments", week=WEEK).attempts == 1


def test_smtp_errors_are_retried_with_backoff_and_recorded(smtp, fleet, monkeypatch):
    countdowns = []
    original = send_digest_group.retry

    def recording_retry(*args, **kwargs):
        countdowns.append(kwargs["countdown"])
        return original(*args, **kwargs)

    monkeypatch.setattr(send_digest_group, "retry", recording_retry)
    smtp.fail_next = 2
    result = send_digest_group.apply(kwargs={"group": "team:payments", "week": WEEK})
    assert result.get() == "sent"
    assert countdowns == [60, 120]  # exponential backoff
    assert len(smtp.messages) == 1
    record = Digest.objects.get(group="team:payments", week=WEEK)
    assert (record.status, record.attempts) == ("sent", 3)
    assert record.sent_at is not None
    errors = record.error.splitlines()
    assert len(errors) == 2 and errors[0].startswith("attempt 1 at ") and errors[1].startswith("attempt 2 at ")
    assert all("SMTPDataError" in e and "451" in e for e in errors)


def test_gives_up_after_max_retries_and_a_later_run_succeeds(smtp, fleet, settings):
    settings.BOTAUDIT_DIGEST_MAX_RETRIES = 1
    smtp.fail_next = 5
    assert send_digest_group.apply(kwargs={"group": "security", "week": WEEK}).get() == "failed"
    record = Digest.objects.get(group="security", week=WEEK)
    assert (record.status, record.attempts, record.sent_at) == ("failed", 2, None)
    assert smtp.messages == []
    smtp.fail_next = 0
    assert digest_send(group="security", week=WEEK) == "sent"
    record.refresh_from_db()
    assert (record.status, record.attempts) == ("sent", 3) and record.sent_at is not None
    assert record.error.count("SMTPDataError") == 2  # the history of the failures stays


def test_unreachable_smtp_server_is_recorded(smtp, fleet, settings):
    settings.EMAIL_PORT = 1  # nothing listens there
    with pytest.raises(OSError):
        digest_send(group="team:payments", week=WEEK)
    record = Digest.objects.get(group="team:payments", week=WEEK)
    assert record.status == "failed" and "ConnectionRefusedError" in record.error


def test_no_recipients_is_skipped_without_a_record(smtp, fleet, settings):
    settings.BOTAUDIT_DIGEST_SECURITY_RECIPIENTS = []
    assert digest_send(group="security", week=WEEK) == "skipped: no recipients"
    assert not Digest.objects.exists() and smtp.messages == []


def test_bad_group_or_week_names_the_value(db):
    with pytest.raises(ValueError, match="'team:nobody'"):
        digest_send(group="team:nobody", week=WEEK)
    with pytest.raises(ValueError, match="'2026-48'.*2026-W48"):
        digest_send(group="security", week="2026-48")
    with pytest.raises(ValueError, match="'2026-W60'"):
        digest_send(group="security", week="2026-W60")


@pytest.mark.django_db(transaction=True)
def test_duplicate_beat_tick_through_a_real_worker_sends_each_digest_once(smtp, fleet, celery_worker):
    first = send_weekly_digests.delay(week=WEEK).get(timeout=30)
    assert first == {"week": WEEK, "groups": ["team:payments", "team:platform", "security"]}
    _wait_for(lambda: Digest.objects.filter(status="sent").count() == 3)
    send_weekly_digests.delay(week=WEEK).get(timeout=30)  # beat ticks again (or the task is redelivered)
    time.sleep(2)
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == ["alice@example.com", "carol@example.com",
                                                          "ciso@example.com"]
    assert Digest.objects.filter(status="sent", attempts=1).count() == 3


def _wait_for(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out: {list(Digest.objects.values('group', 'status', 'error'))}")
