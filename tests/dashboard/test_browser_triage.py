"""Browser (Playwright, Debian Chromium): accept a finding's risk until a date from its page, and
filter the Findings page to the overdue ones (issue 14)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from scanners.models import Finding
from tests.dashboard.conftest import PASSWORD, make_finding
from tests.dashboard.test_browser import browser  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


def _login(page, url):
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", "aud@example.com")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def test_accept_risk_until_a_date(live_server, world, browser):  # noqa: F811
    page = browser.new_page()
    _login(page, live_server.url)
    stale = world["f_stale"]
    page.goto(f"{live_server.url}/findings/{stale.pk}/")
    page.select_option("#id_action", "accept")
    page.fill("#id_reason", "vendor patch lands next month")
    page.click("text=Apply")  # no date: refused, nothing changed
    page.wait_for_selector(".msg-error")
    assert "Accept risk needs the date" in page.inner_text(".messages")
    stale.refresh_from_db()
    assert stale.status == Finding.Status.OPEN

    until = timezone.localdate() + timedelta(days=20)
    page.select_option("#id_action", "accept")
    page.fill("#id_reason", "vendor patch lands next month")
    page.fill("#id_until", until.isoformat())
    assert page.input_value("#id_approver") == "aud@example.com"  # the auditor by default
    page.select_option("#id_approver", "adm@example.com")
    page.click("text=Apply")
    page.wait_for_selector(".msg-success")
    assert f"risk accepted until {until.isoformat()} (approved by adm@example.com)" in page.inner_text(".messages")
    assert f"until {until.isoformat()}, approved by adm@example.com" in page.inner_text("main")
    stale.refresh_from_db()
    assert (stale.status, stale.accepted_until, stale.accepted_by.username) == ("accepted", until,
                                                                                "adm@example.com")
    page.goto(f"{live_server.url}/findings/?status=accepted")
    assert page.locator("table.table tbody tr").count() == 1
    assert f"until {until.isoformat()}" in page.inner_text("table.table tbody")


def test_overdue_filter(live_server, world, browser):  # noqa: F811
    make_finding(world["bot_a"], "aws.key.unused", severity="critical", first_seen=timezone.now() - timedelta(days=9))
    page = browser.new_page()
    _login(page, live_server.url)
    page.goto(f"{live_server.url}/findings/")
    assert page.locator("table.table tbody tr").count() == 5  # every finding, before the filter
    page.select_option("#id_overdue", "true")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/findings/?*overdue=true*")
    rows = page.locator("table.table tbody tr")
    assert rows.count() == 1
    assert "aws.key.unused" in rows.first.inner_text() and "2 days overdue" in rows.first.inner_text()
