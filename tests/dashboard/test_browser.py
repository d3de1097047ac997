"""Drive Debian's Chromium with Playwright against the live server: log in, filter the fleet, open a
bot, triage a finding, download the CSV. Saves screenshots of Overview, Fleet, Bot and Findings
(into $BOTAUDIT_SCREENSHOTS when set, e.g. docs/screenshots, else a temporary directory)."""

import csv
import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from devtools.bench import bench_seed
from scanners.models import AuditRun, BotScore, Finding
from scanners.scoring import score_findings
from tests.dashboard.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls here are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed (make test installs it as root)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def shots(tmp_path):
    target = Path(os.environ.get("BOTAUDIT_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


def test_login_filter_open_triage_download(live_server, world, browser, shots, tmp_path):
    bench_seed(bots=36, credentials_per_bot=2, findings_per_bot=8, teams=3, runs=4)  # a fuller picture
    runs = AuditRun.objects.filter(trigger="bench").order_by("pk")
    now_score, breakdown = score_findings(world["bot_a"].findings.filter(status="open"))
    BotScore.objects.bulk_create([BotScore(bot=world["bot_a"], audit_run=run, score=score,
                                           breakdown=breakdown if score == now_score else {})
                                  for run, score in zip(runs, [20, 48, 80, now_score], strict=True)])
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = context.new_page()
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)

    page.goto(f"{live_server.url}/bots/")
    assert "/accounts/login/" in page.url  # login required
    page.fill("#id_username", "aud@example.com")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/bots/")

    page.goto(f"{live_server.url}/")
    assert page.get_by_role("heading", name="Fleet overview").is_visible()
    assert page.locator("svg.chart rect.bar").count() >= 24
    page.screenshot(path=str(shots / "overview.png"), full_page=True)

    page.goto(f"{live_server.url}/bots/")
    page.select_option("#id_leaks", "yes")
    page.fill("#id_q", "pay")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/bots/?*leaks=yes*")
    rows = page.locator("table.table tbody tr")
    assert rows.count() == 1 and "pay-bot" in rows.first.inner_text()
    page.goto(f"{live_server.url}/bots/?sort=-risk_score")
    page.screenshot(path=str(shots / "fleet.png"), full_page=True)

    page.goto(f"{live_server.url}/bots/?q=pay")
    page.click("text=pay-bot")
    page.wait_for_url("**/bots/pay-bot/")
    assert page.get_by_role("heading", name="pay-bot").is_visible()
    assert page.get_by_text("overdue (45 d)").is_visible()
    assert page.locator("svg.chart circle.dot").count() == 5  # score history
    assert f"{now_score} / 100" in page.inner_text("main") and f"Why {now_score}" in page.inner_text("main")
    page.screenshot(path=str(shots / "bot.png"), full_page=True)

    page.goto(f"{live_server.url}/findings/?bot=pay-bot&status=open")
    page.check("input[data-select-all]")  # the vendored script ticks every row
    assert page.locator("input[name=pk]:checked").count() == 2
    page.uncheck("input[data-select-all]")
    leak = world["f_leak"]
    page.check(f"input[name=pk][value='{leak.pk}']")
    page.select_option("#id_action", "acknowledge")
    page.fill("#id_reason", "tracked in SEC-42")
    page.click("text=Apply to selected")
    page.wait_for_selector(".msg-success")
    assert "1 finding(s): acknowledge." in page.inner_text(".messages")
    leak.refresh_from_db()
    assert leak.status == Finding.Status.ACKNOWLEDGED and leak.status_reason == "tracked in SEC-42"
    page.goto(f"{live_server.url}/findings/?status=open&per_page=25")
    page.screenshot(path=str(shots / "findings.png"), full_page=True)

    page.goto(f"{live_server.url}/bots/?team=payments")
    with page.expect_download() as download_info:
        page.click("text=audit spreadsheet (CSV)")
    path = tmp_path / "audit.csv"
    download_info.value.save_as(path)
    rows = list(csv.reader(path.open()))
    assert rows[0][:5] == ["team", "bot", "owner", "environment", "credential"] and rows[0][-1] == "last_audited"
    stripe = next(r for r in rows if r[1] == "pay-bot" and r[4] == "stripe")
    assert stripe[0] == "payments" and stripe[6] == "secret/payments/stripe" and stripe[13] == "yes"
    assert {r[0] for r in rows[1:]} == {"payments"}

    phone = browser.new_context(viewport={"width": 390, "height": 844}, storage_state=context.storage_state())
    mobile = phone.new_page()
    for url in ("/", "/bots/", "/bots/pay-bot/", "/findings/", "/runs/"):
        mobile.goto(f"{live_server.url}{url}")
        width = mobile.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{url} scrolls sideways on a phone ({width}px; tables scroll inside their box)"
    phone.close()
    context.close()
    assert violations == []
