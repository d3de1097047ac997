"""Every page renders what the issue asks, filters work, triage is recorded, CSP holds."""

import re

import pytest
import redis
from django.conf import settings as django_settings

from inventory.models import AuditLogEntry
from scanners.models import AuditRun, Finding, ProbeRun

PAGES = ["/", "/bots/", "/bots/pay-bot/", "/findings/", "/runs/", "/accounts/login/"]
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
       "form-action 'self'; base-uri 'none'")


def names_in(response):
    return set(re.findall(r'href="/bots/([\w-]+)/"', response.content.decode()))


@pytest.fixture
def auditor(client, world):
    client.force_login(world["users"]["auditor"])
    return client


@pytest.mark.parametrize("url", PAGES)
def test_strict_csp_and_no_inline_script_or_style(auditor, url):
    response = auditor.get(url)
    assert response["Content-Security-Policy"] == CSP
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert " style=" not in html and "<style" not in html, "inline style"
    assert "http://" not in html.replace("http://testserver", "") and "https://" not in html, "external asset"
    assert 'href="#main"' in html or url == "/accounts/login/"


def test_static_stylesheet_is_vendored():
    css = django_settings.BASE_DIR / "static" / "botaudit" / "botaudit.css"
    assert css.is_file() and ".badge" in css.read_text()


def test_overview_shows_bands_findings_riskiest_chart_and_last_audit(auditor, world):
    html = auditor.get("/").content.decode()
    assert "Bots by risk band" in html and "risk-high" in html  # pay-bot scored 60
    assert "Riskiest bots" in html and 'href="/bots/pay-bot/"' in html
    assert html.count("<svg") == 1 and "Findings opened vs resolved per week" in html
    assert html.count('class="bar opened"') >= 12
    assert f"audit #{world['run'].pk}" in html
    assert "leak" in html and "stale_credential" in html


@pytest.mark.parametrize(("query", "expected"), [
    ("", {"pay-bot", "plat-bot", "lonely-bot"}),
    ("q=plat", {"plat-bot"}),
    ("q=pays+things", {"pay-bot"}),
    ("team=platform", {"plat-bot"}),
    ("environment=dev", {"lonely-bot"}),
    ("severity=critical", {"pay-bot"}),
    ("severity=medium", {"plat-bot"}),
    ("risk=high", {"pay-bot"}),
    ("risk=low", {"plat-bot"}),
    ("risk=unknown", {"lonely-bot"}),
    ("leaks=yes", {"pay-bot"}),
    ("leaks=no", {"plat-bot", "lonely-bot"}),
    ("stale=yes", {"pay-bot"}),
])
def test_fleet_filters(auditor, query, expected):
    assert names_in(auditor.get(f"/bots/?{query}")) == expected


def test_fleet_columns_sorting_and_per_page(auditor, world, make_bot):
    html = auditor.get("/bots/?sort=-risk_score").content.decode()
    for header in ("Name", "Team", "Owner", "Environment", "Credentials", "Open findings", "Risk score",
                   "Last audited"):
        assert f">{header}</a>" in html
    assert html.index("pay-bot") < html.index("plat-bot")
    assert 'class="badge sev-critical"' in html
    assert "export/audit.csv?sort=-risk_score" in html
    for i in range(30):
        make_bot(f"extra-{i:02d}")
    assert len(names_in(auditor.get("/bots/?per_page=25"))) == 25
    assert len(names_in(auditor.get("/bots/?per_page=50"))) == 33
    assert len(names_in(auditor.get("/bots/?per_page=25&page=2"))) == 8


def test_bot_page(auditor, world):
    html = auditor.get("/bots/pay-bot/").content.decode()
    assert "arn:aws:iam::123456789012:user/pay-bot" in html  # identity
    assert "secret/payments/stripe" in html and "every 30 days" in html
    assert "overdue (45 d)" in html  # rotated 45 days ago, policy 30
    assert html.index("Leak") < html.index("Stale Credential")  # grouped by category
    assert "git.secret.leaked" in html and "Revoke and rotate the secret now" in html  # evidence + remediation
    assert "vault.kv.unowned" not in html  # only open findings
    assert "Risk score history" in html and "<polyline" in html
    assert "60 / 100" in html


def test_findings_filters(auditor, world):
    def checks(query):
        html = auditor.get(f"/findings/?{query}").content.decode()
        return set(re.findall(r"<td>([a-z]+\.[a-z.]+)</td>", html))

    assert checks("") == {"git.secret.leaked", "aws.key.stale", "vault.policy.wildcard", "vault.kv.unowned"}
    assert checks("status=resolved") == {"vault.kv.unowned"}
    assert checks("severity=critical") == {"git.secret.leaked"}
    assert checks("category=over_broad_access") == {"vault.policy.wildcard"}
    assert checks("check_id=aws.") == {"aws.key.stale"}
    assert checks("team=platform") == {"vault.policy.wildcard"}
    assert checks("bot=pay-bot&status=open") == {"git.secret.leaked", "aws.key.stale"}
    assert checks("first_seen_after=2999-01-01") == set()


def test_triage_many_with_reason_is_recorded(auditor, world):
    ids = [world["f_leak"].pk, world["f_stale"].pk]
    response = auditor.post("/findings/triage/", {"pk": ids, "action": "acknowledge", "reason": "known, ticket 42",
                                                  "next": "/findings/?status=open"})
    assert response.status_code == 302 and response["Location"] == "/findings/?status=open"
    assert set(Finding.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"acknowledged"}
    entry = AuditLogEntry.objects.get(action="finding.acknowledge")
    assert entry.user == world["users"]["auditor"] and entry.detail["reason"] == "known, ticket 42"
    auditor.post("/findings/triage/", {"pk": [ids[0]], "action": "reopen", "reason": "not fixed"})
    assert Finding.objects.get(pk=ids[0]).status == "open"


@pytest.mark.parametrize("data", [
    {"action": "false_positive", "reason": ""},
    {"action": "false_positive", "reason": "   "},
    {"action": "delete", "reason": "because"},
    {"reason": "because"},
])
def test_triage_refuses_without_reason_or_action(auditor, world, data):
    response = auditor.post("/findings/triage/", {"pk": [world["f_leak"].pk], **data}, follow=True)
    assert "Nothing changed" in response.content.decode()
    assert Finding.objects.get(pk=world["f_leak"].pk).status == "open"
    assert not AuditLogEntry.objects.filter(action__startswith="finding.").exists()


def test_triage_requires_a_selection(auditor, world):
    response = auditor.post("/findings/triage/", {"action": "acknowledge", "reason": "x"}, follow=True)
    assert "Select at least one finding" in response.content.decode()


def test_triage_ignores_unsafe_next(auditor, world):
    response = auditor.post("/findings/triage/", {"pk": [world["f_leak"].pk], "action": "acknowledge",
                                                  "reason": "ok", "next": "https://evil.example/"})
    assert response["Location"] == "/findings/"


def test_viewer_sees_no_triage_controls(client, world):
    client.force_login(world["users"]["viewer_a"])
    html = client.get("/findings/").content.decode()
    assert "git.secret.leaked" in html
    assert 'type="checkbox"' not in html and "Apply to selected" not in html


def test_runs_page_shows_probe_runs_errors_to_auditors_only(client, world):
    ProbeRun.objects.create(audit_run=world["run"], kind="aws", scope="connector:1", status="failed",
                            api_calls=7, error="demo-aws: AccessDenied on iam:ListUsers")
    client.force_login(world["users"]["auditor"])
    html = client.get("/runs/").content.decode()
    assert "AccessDenied on iam:ListUsers" in html and "7 API calls" in html and "Start an audit" in html
    assert "42 API calls · 2 findings" in html and "0 API calls</li>" in html  # counts only when known
    client.force_login(world["users"]["viewer_a"])
    html = client.get("/runs/").content.decode()
    assert "AccessDenied" not in html and "auditors see details" in html and "Start an audit" not in html


def test_runs_page_groups_units_by_connector_with_status_duration_calls_and_errors(client, world):
    from datetime import timedelta

    from inventory.models import Connector

    git = Connector.objects.create(name="repos", kind="git")
    start = world["run"].started
    for name, status, calls, error in (("alpha", "ok", 1, ""), ("beta", "failed", 0, "repository beta: gone"),
                                       ("gamma", "ok", 1, "")):
        ProbeRun.objects.create(audit_run=world["run"], connector=git, kind="git", unit=name, status=status,
                                scope=f"connector:{git.pk}:{name}", api_calls=calls, error=error,
                                started=start, finished=start + timedelta(seconds=2))
    aws = Connector.objects.create(name="org", kind="aws")
    ProbeRun.objects.create(audit_run=world["run"], connector=aws, kind="aws", unit="123456789012/iam",
                            account="123456789012", scope=f"connector:{aws.pk}:123456789012/iam", status="ok",
                            api_calls=5, started=start, finished=start + timedelta(seconds=1))
    client.force_login(world["users"]["auditor"])
    html = client.get("/runs/").content.decode()
    assert "<strong>repos</strong> (git) · 3 units:" in html
    assert '<span class="status st-ok">2 ok</span> <span class="status st-failed">1 failed</span>' in html
    assert "2.0 s · 2 API calls · 1 with errors" in html
    assert '<span class="unit">beta</span>' in html and "repository beta: gone" in html
    assert '<span class="unit">123456789012/iam</span> · account 123456789012' in html
    client.force_login(world["users"]["viewer_a"])
    html = client.get("/runs/").content.decode()
    assert "repository beta: gone" not in html and '<span class="unit">beta</span>' in html


def test_auditor_starts_an_audit_in_process(auditor, world, settings):
    settings.REDIS_URL = ""
    before = AuditRun.objects.count()
    response = auditor.post("/runs/start/", follow=True)
    run = AuditRun.objects.order_by("-pk").first()
    assert AuditRun.objects.count() == before + 1
    assert run.trigger == "web:aud@example.com" and run.finished is not None
    assert f"Audit #{run.pk} finished" in response.content.decode()


def test_auditor_starts_an_audit_through_the_queue(auditor, world, settings):
    queue = settings.CELERY_TASK_ROUTES["botaudit.audit_fleet"]["queue"]
    broker = redis.Redis.from_url(settings.REDIS_URL)
    before = broker.llen(queue)
    response = auditor.post("/runs/start/", follow=True)
    try:
        assert broker.llen(queue) == before + 1
        message = broker.lindex(queue, 0)
        run = AuditRun.objects.order_by("-pk").first()  # created here, its id passed to the task
        assert b"botaudit.audit_fleet" in message and run.task_id.encode() in message
        assert run.trigger == "web:aud@example.com" and run.probe_runs.filter(status="pending").exists()
        assert f"Audit #{run.pk} queued" in response.content.decode()
    finally:
        broker.lpop(queue)


def test_a_broker_that_is_down_is_an_error_on_the_page_without_its_password(auditor, world, broker_refusing):
    canary = broker_refusing
    response = auditor.post("/runs/start/", follow=True)
    body = response.content.decode()
    assert "cannot reach the Celery broker at redis://:***@127.0.0.1:1/6" in body and canary not in body
    assert canary not in auditor.get("/runs/").content.decode()
    assert AuditRun.objects.order_by("-pk").first().status == "failed"
