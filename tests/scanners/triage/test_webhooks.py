"""Webhooks after each audit, against a real HTTP receiver on loopback: new findings at or above the
team's minimum severity, leaks still at a tip, failed probes; exactly once per (audit run, target),
nothing when nothing is new, retried without double-sending, never a secret value, SSRF refused."""

import logging
import socket

import pytest

from botaudit.celery import app
from inventory.models import Team
from scanners.models import AuditRun, Finding, ProbeRun, WebhookDelivery
from scanners.notify import targets as targets_mod
from scanners.notify.services import webhook_deliver
from scanners.notify.targets import WebhookRefused, webhook_resolve
from scanners.notify.tasks import send_audit_webhook
from scanners.services.audit import audit_run_in_process
from tests.helpers import finding_make

from .receiver import Receiver

pytestmark = pytest.mark.django_db

URL_CANARY = "T0CANARY/B0CANARY/url-token-canary-7f3a"  # a Slack-style URL carries its token in the path
SECRET_CANARY = "AKIAcanarySECRETvalue0123456789"
ENV = "BOTAUDIT_TEST_PAYMENTS_HOOK"


@pytest.fixture
def eager():
    """Tasks run in this process (as in the embedded default), retries included."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def receiver(monkeypatch, settings, eager):
    settings.BOTAUDIT_WEBHOOK_ALLOW_INSECURE = True
    with Receiver() as rec:
        monkeypatch.setenv(ENV, rec.url(f"/services/{URL_CANARY}"))
        yield rec


@pytest.fixture
def hooked(team, make_bot, make_credential):
    """The team notifies at high and above; its two bots share a credential (two new high findings), and
    one has a credential outside a secrets manager (a medium finding, below the minimum)."""
    team.notify = {"webhook_url_env": ENV, "min_severity": "high", "format": "json"}
    team.save()
    live, test = make_bot("live-bot"), make_bot("test-bot", environment="staging")
    make_credential(live, "db", ref="secret/shared/db")
    make_credential(test, "db", ref="secret/shared/db")
    make_credential(live, "token", store="env_var", ref="LIVE_TOKEN")
    return team


def _audit(django_capture_on_commit_callbacks) -> AuditRun:
    with django_capture_on_commit_callbacks(execute=True):
        return audit_run_in_process()


def test_exactly_once_per_audit_and_team_and_nothing_when_nothing_new(
        hooked, receiver, django_capture_on_commit_callbacks, caplog):
    caplog.set_level(logging.DEBUG)
    run = _audit(django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request["path"] == f"/services/{URL_CANARY}" and request["content_type"] == "application/json"
    body = request["body"]
    assert body["event"] == "audit.finished" and body["audit_run"] == run.pk and body["team"] == "payments"
    assert sorted((f["check_id"], f["bot"]) for f in body["new_findings"]) == [
        ("inventory.credential.shared_across_environments", "live-bot"),
        ("inventory.credential.shared_across_environments", "test-bot")]  # the medium one is below high
    assert all(f["url"].endswith(f"/findings/{f['id']}/") for f in body["new_findings"])
    delivery = WebhookDelivery.objects.get(audit_run=run, target="team:payments")
    assert (delivery.status, delivery.attempts, delivery.url_env) == ("sent", 1, ENV)
    assert delivery.counts == {"new_findings": 2, "leaks_at_tip": 0, "failed_probes": 0}

    # the task again (a redelivery, a second worker): nothing more is sent
    assert send_audit_webhook.apply(kwargs={"audit_run_id": run.pk, "target": "team:payments"}).get() == \
        "already sent"
    # the next audit finds the same findings: nothing new, nothing sent, recorded as skipped
    second = _audit(django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get(audit_run=second).status == "skipped"
    assert URL_CANARY not in caplog.text and URL_CANARY not in str(list(WebhookDelivery.objects.values()))


def test_retried_task_does_not_double_send(hooked, receiver, django_capture_on_commit_callbacks):
    receiver.statuses = [500]  # the first attempt fails, the retry succeeds
    run = _audit(django_capture_on_commit_callbacks)
    assert [r["body"]["audit_run"] for r in receiver.requests] == [run.pk, run.pk]
    delivery = WebhookDelivery.objects.get(audit_run=run)
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert "HTTP 500" in delivery.error and URL_CANARY not in delivery.error
    for _ in range(2):  # redelivered after success: never a third request
        send_audit_webhook.apply(kwargs={"audit_run_id": run.pk, "target": "team:payments"})
    assert len(receiver.requests) == 2


def test_gives_up_after_retries_and_records_it(hooked, receiver, settings, django_capture_on_commit_callbacks):
    settings.BOTAUDIT_WEBHOOK_MAX_RETRIES = 2
    receiver.statuses = [503] * 10
    run = _audit(django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 3  # the first attempt and two retries
    delivery = WebhookDelivery.objects.get(audit_run=run)
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert delivery.error.count("HTTP 503") == 3


def test_slack_format_leaks_at_tip_failed_probes_and_no_secret_value(
        hooked, receiver, django_capture_on_commit_callbacks):
    hooked.notify = {**hooked.notify, "format": "slack"}
    hooked.save()
    bot = hooked.bots.get(name="live-bot")
    leak = finding_make(check_id="git.secret.leaked", bot=bot, severity="high", evidence={
        "secret_fingerprint": "f" * 64, "redacted": "AKIA…(31)", "still_at_head": True,
        "match": SECRET_CANARY})  # even evidence holding a value (a probe bug) never reaches a webhook
    run = _audit(django_capture_on_commit_callbacks)
    body = receiver.requests[0]["body"]
    assert set(body) == {"text", "blocks"} and "2 new finding(s)" in body["text"]
    assert "1 leak(s) still at a tip" in body["text"]
    assert any(leak.title in b["text"]["text"] for b in body["blocks"] if b["type"] == "section")
    assert SECRET_CANARY not in receiver.requests[0]["raw"]
    assert WebhookDelivery.objects.get(audit_run=run).counts["leaks_at_tip"] == 1


def test_a_failed_probe_is_news_even_without_new_findings(hooked, receiver, django_capture_on_commit_callbacks):
    _audit(django_capture_on_commit_callbacks)  # the findings are not new any more after this one
    run = AuditRun.objects.create(status="partial", trigger="test")
    ProbeRun.objects.create(audit_run=run, kind="vault", scope="connector:9", status="failed")
    from django.utils import timezone

    run.finished = timezone.now()
    run.save()
    assert webhook_deliver(audit_run_id=run.pk, target_name="team:payments") == "sent"
    body = receiver.requests[-1]["body"]
    assert body["new_findings"] == [] and body["failed_probes"] == [{"connector": None, "kind": "vault"}]


def test_security_webhook_from_settings_sees_every_team(hooked, receiver, settings, monkeypatch,
                                                       django_capture_on_commit_callbacks):
    other = Team.objects.create(name="data", slug="data")
    settings.BOTAUDIT_SECURITY_WEBHOOK_URL_ENV = "BOTAUDIT_TEST_SECURITY_HOOK"
    settings.BOTAUDIT_SECURITY_WEBHOOK_MIN_SEVERITY = "medium"
    monkeypatch.setenv("BOTAUDIT_TEST_SECURITY_HOOK", receiver.url("/security"))
    from inventory.models import Bot

    Bot.objects.create(name="orphan", slug="orphan", team=other)  # no owner: a medium finding
    run = _audit(django_capture_on_commit_callbacks)
    by_path = {r["path"]: r["body"] for r in receiver.requests}
    assert set(by_path) == {"/security", f"/services/{URL_CANARY}"}
    assert {f["bot"] for f in by_path["/security"]["new_findings"]} == {"live-bot", "test-bot", "orphan"}
    assert "orphan" not in {f["bot"] for f in by_path[f"/services/{URL_CANARY}"]["new_findings"]}
    assert set(WebhookDelivery.objects.filter(audit_run=run).values_list("target", flat=True)) == {
        "security", "team:payments"}


def test_nothing_queued_without_configured_webhooks(team, make_bot, eager, django_capture_on_commit_callbacks):
    make_bot("lonely", owner="")
    _audit(django_capture_on_commit_callbacks)
    assert not WebhookDelivery.objects.exists()


# SSRF: https only, every resolved address public, unless BOTAUDIT_WEBHOOK_ALLOW_INSECURE=1.

@pytest.mark.parametrize(("url", "why"), [
    ("http://hooks.example.com/x", "http://"),
    ("https://127.0.0.1/x", "loopback"),
    ("https://localhost:8443/x", "loopback"),
    ("https://[::1]/x", "loopback"),
    ("https://[::ffff:127.0.0.1]/x", "loopback"),
    ("https://10.1.2.3/x", "private"),
    ("https://192.168.0.5/x", "private"),
    ("https://169.254.169.254/latest/meta-data/", "link-local"),
    ("https://0.0.0.0/x", "non-public"),
    ("https://user:pw@hooks.example.com/x", "userinfo"),
    ("ftp://hooks.example.com/x", "https"),
])
def test_refused_targets(monkeypatch, settings, url, why):
    settings.BOTAUDIT_WEBHOOK_ALLOW_INSECURE = False
    monkeypatch.setenv("HOOK", url)
    with pytest.raises(WebhookRefused, match=why) as err:
        webhook_resolve(url_env="HOOK")
    assert "/x" not in str(err.value) and "meta-data" not in str(err.value)  # never the URL


def _resolving_to(monkeypatch, *addresses):
    def fake(host, port, *args, **kwargs):
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses]

    monkeypatch.setattr(targets_mod.socket, "getaddrinfo", fake)


def test_every_resolved_address_is_checked(monkeypatch, settings):
    settings.BOTAUDIT_WEBHOOK_ALLOW_INSECURE = False
    monkeypatch.setenv("HOOK", "https://hooks.example.com/services/x?y=1")
    _resolving_to(monkeypatch, "93.184.216.34", "10.0.0.7")  # one public, one private: refused
    with pytest.raises(WebhookRefused, match="private"):
        webhook_resolve(url_env="HOOK")
    _resolving_to(monkeypatch, "93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946")
    resolved = webhook_resolve(url_env="HOOK")
    assert (resolved.host, resolved.port, resolved.path, resolved.address) == (
        "hooks.example.com", 443, "/services/x?y=1", "93.184.216.34")  # the connection goes to a checked one


def test_unset_variable_is_refused(monkeypatch):
    monkeypatch.delenv("HOOK_NOT_SET", raising=False)
    with pytest.raises(WebhookRefused, match="HOOK_NOT_SET is not set"):
        webhook_resolve(url_env="HOOK_NOT_SET")


def test_loopback_receiver_refused_without_the_insecure_flag(hooked, receiver, settings,
                                                              django_capture_on_commit_callbacks):
    settings.BOTAUDIT_WEBHOOK_ALLOW_INSECURE = False
    run = _audit(django_capture_on_commit_callbacks)
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get(audit_run=run)
    assert delivery.status == "failed" and "http://" in delivery.error and URL_CANARY not in delivery.error
    assert Finding.objects.filter(status="open").count() == 3  # the audit itself is unaffected


@pytest.mark.django_db(transaction=True)
def test_a_second_worker_skips_a_delivery_being_sent(team, make_bot, receiver):
    """While one worker holds the delivery row (mid-request), another gets 'busy' and sends nothing."""
    import threading

    from django.db import connection, transaction
    from django.utils import timezone

    team.notify = {"webhook_url_env": ENV, "min_severity": "low"}
    team.save()
    bot = make_bot("solo-bot", owner="")  # no owner: one new medium finding
    run = AuditRun.objects.create(status="ok", trigger="test")
    finding_make(check_id="inventory.bot.no_owner", bot=bot)
    run.finished = timezone.now()
    run.save()
    WebhookDelivery.objects.create(audit_run=run, target="team:payments", team=team)
    outcome = {}

    def other_worker():
        try:
            outcome["second"] = webhook_deliver(audit_run_id=run.pk, target_name="team:payments")
        finally:
            connection.close()

    with transaction.atomic():
        WebhookDelivery.objects.select_for_update().get(audit_run=run)  # the first worker's claim
        thread = threading.Thread(target=other_worker)
        thread.start()
        thread.join(30)
    assert outcome["second"] == "busy" and receiver.requests == []
    assert webhook_deliver(audit_run_id=run.pk, target_name="team:payments") == "sent"
    assert len(receiver.requests) == 1


def test_a_real_leak_through_the_pipeline_reaches_the_webhook_without_its_value(
        team, make_bot, receiver, tmp_path, django_capture_on_commit_callbacks):
    """Canary: a token committed to a bot's repository, scanned by the git probe; the webhook names the
    leak (new, still at the tip) and never carries the token."""
    from inventory.models import Connector, Repository
    from tests.scanners.git.gitrepo import Repo, github_pat

    team.notify = {"webhook_url_env": ENV, "min_severity": "high", "format": "json"}
    team.save()
    repo = Repo(tmp_path / "payments-api")
    token = github_pat()
    repo.commit({"app.py": f"TOKEN = '{token}'\n"})
    repository = Repository.objects.create(name="payments-api", url=str(repo.path), branches=["*"])
    make_bot("invoice-bot").repositories.add(repository)
    Connector.objects.create(name="git", kind="git", options={"repositories": ["*"]})
    run = _audit(django_capture_on_commit_callbacks)
    assert run.probe_runs.get(kind="git").status == "ok"
    (request,) = receiver.requests
    body = request["body"]
    assert [f["check_id"] for f in body["new_findings"]] == ["git.secret.leaked"]
    assert [f["check_id"] for f in body["leaks_at_tip"]] == ["git.secret.leaked"]
    assert token not in request["raw"] and token[4:] not in request["raw"]


def test_slack_text_cannot_open_links_or_mentions():
    from scanners.notify.payload import slack_payload

    news = {"audit_run": 1, "status": "ok", "team": "pay<ments>", "min_severity": "high", "url": "https://b/runs/",
            "counts": {"new_findings": 1, "leaks_at_tip": 0, "failed_probes": 0}, "leaks_at_tip": [],
            "failed_probes": [], "new_findings": [{"severity": "high", "title": "<!channel> a|b & c",
                                                   "url": "https://b/findings/1/", "bot": "x"}]}
    body = slack_payload(news)
    joined = body["text"] + "".join(b["text"]["text"] for b in body["blocks"] if b["type"] == "section")
    assert "<!channel>" not in joined and "&lt;!channel&gt; a¦b &amp; c" in joined and "pay&lt;ments&gt;" in joined


@pytest.mark.django_db(transaction=True)
def test_retried_on_a_real_worker_from_the_digest_queue_sends_once(team, make_bot, settings, monkeypatch):
    """A real Celery worker (threads) on Redis, consuming the `digest` queue: the first POST fails, the
    task retries with backoff (countdown shortened), the second succeeds; a redelivered task sends
    nothing more."""
    import time

    from celery.contrib.testing.worker import start_worker
    from django.utils import timezone

    import scanners.notify.tasks as notify_tasks

    assert settings.CELERY_BROKER_URL.startswith("redis://"), "this test needs the real Redis broker"
    settings.BOTAUDIT_WEBHOOK_ALLOW_INSECURE = True
    team.notify = {"webhook_url_env": ENV, "min_severity": "low"}
    team.save()
    bot = make_bot("solo-bot", owner="")
    run = AuditRun.objects.create(status="ok", trigger="test")
    finding_make(check_id="inventory.bot.no_owner", bot=bot)
    run.finished = timezone.now()
    run.save()
    original = notify_tasks.send_audit_webhook.retry

    def fast_retry(*args, **kwargs):  # the backoff path, without waiting 30 s
        assert kwargs["countdown"] == 30
        kwargs["countdown"] = 1
        return original(*args, **kwargs)

    monkeypatch.setattr(notify_tasks.send_audit_webhook, "retry", fast_retry)
    app.conf.task_always_eager = False
    with Receiver() as receiver:
        receiver.statuses = [502]
        monkeypatch.setenv(ENV, receiver.url("/hook"))
        with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=10,
                          queues=["digest"]):
            assert notify_tasks.audit_webhooks_enqueue(audit_run_id=run.pk) == ["team:payments"]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not WebhookDelivery.objects.filter(status="sent").exists():
                time.sleep(0.2)
            notify_tasks.send_audit_webhook.apply_async(
                kwargs={"audit_run_id": run.pk, "target": "team:payments"}, queue="digest").get(timeout=30)
        assert len(receiver.requests) == 2  # the failed attempt and the retry: never a third
    delivery = WebhookDelivery.objects.get(audit_run=run)
    assert (delivery.status, delivery.attempts) == ("sent", 2) and "HTTP 502" in delivery.error
