"""axe-core (the npm package, installed by `make test` into var/axe/, never fetched at test time)
injected by Playwright into every page of the dashboard in Debian's Chromium: WCAG 2 A and AA
rules, zero violations. Also the evidence rendering and the bot page's "Why N", seen in the browser
(screenshots finding.png and why.png into $BOTAUDIT_SCREENSHOTS when set, e.g. docs/screenshots)."""

import json
from pathlib import Path

import pytest

from scanners.scoring import bot_scores_compute
from tests.dashboard.conftest import PASSWORD, make_finding
from tests.dashboard.test_browser import browser, shots  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "var" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa"]

pytestmark = pytest.mark.browser


def _axe_source() -> str:
    assert AXE.exists(), (f"{AXE} is missing: `make test` installs it (npm install --prefix var/axe "
                          "axe-core@$(AXE_CORE_VERSION)); run `make axe`")
    return AXE.read_text(encoding="utf-8")


def axe_violations(page, source: str) -> list[dict]:
    page.add_script_tag(content=source)  # the context bypasses CSP for this one injected script
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"]]


def _login(page, base):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "aud@example.com")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


@pytest.fixture
def rich_world(world):
    """The dashboard world plus a leak with locations and an evidence-heavy policy finding, scored."""
    leak = world["f_leak"]
    fp = "ab" * 32
    leak.evidence = {"secret_fingerprint": fp, "redacted": "ghp_…(40)", "rule_ids": ["github-pat"],
                     "confidence": "high", "still_at_head": True, "repositories": ["payments"],
                     "repository_ids": [1], "location_count": 1, "first_commit_date": "2026-01-05T03:03:20+00:00",
                     "locations": [{"repository_id": 1, "repository": "payments", "file": ".ci/deploy.env", "line": 3,
                                    "commit": "c" * 40, "commit_date": "2026-01-05T03:03:20+00:00",
                                    "first_seen": "2026-01-06T00:00:00+00:00", "still_at_head": True,
                                    "rule_id": "github-pat", "confidence": "high", "reasons": ["known prefix"]}]}
    leak.save(update_fields=["evidence"])
    policy = make_finding(world["bot_a"], "aws.policy.credentials_exposure", severity="high",
                          category="over_broad_access", evidence={
                              "principal": "arn:aws:iam::123456789012:role/pay-bot",
                              "actions": [f"codepipeline:pollforjobs{n}" for n in range(20)],
                              "statements": [{"Effect": "Allow", "Action": ["*"], "Resource": "*"}],
                              "created": "2026-05-17T06:44:00+00:00"})
    bot_scores_compute(audit_run=world["run"])
    return {**world, "policy": policy, "leak_fp": fp}


def test_every_page_has_no_wcag_a_or_aa_violations(live_server, rich_world, browser):  # noqa: F811
    source = _axe_source()
    context = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
    page = context.new_page()
    found = {"/accounts/login/": axe_violations(page, source) if page.goto(f"{live_server.url}/accounts/login/")
             else []}
    _login(page, live_server.url)
    pages = ["/", "/bots/", "/bots/pay-bot/", "/findings/", f"/findings/{rich_world['policy'].pk}/",
             f"/findings/{rich_world['f_leak'].pk}/", "/leaks/", f"/leaks/{rich_world['leak_fp']}/", "/runs/",
             "/digest/", "/digest/payments/", "/account/tokens/"]
    for url in pages:
        response = page.goto(f"{live_server.url}{url}")
        assert response.ok, (url, response.status)
        found[url] = axe_violations(page, source)
    context.close()
    assert {url: v for url, v in found.items() if v} == {}, json.dumps(found, indent=1)


def test_evidence_reads_like_evidence_in_the_browser(live_server, rich_world, browser, shots):  # noqa: F811
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    _login(page, live_server.url)
    page.goto(f"{live_server.url}/findings/{rich_world['policy'].pk}/")
    page.screenshot(path=str(shots / "finding.png"), full_page=True)
    article = page.locator(f"#finding-{rich_world['policy'].pk}")
    chips = article.locator("ul.chips").first.locator("li.chip")
    assert chips.count() == 8 and chips.first.is_visible()
    more = article.locator("details.more")
    assert more.locator("summary").inner_text() == "12 more"
    assert not more.locator("li.chip").first.is_visible()  # folded
    more.locator("summary").click()
    assert more.locator("li.chip").first.is_visible() and more.locator("li.chip").count() == 12
    assert article.locator("code", has_text="arn:aws:iam::123456789012:role/pay-bot").first.is_visible()
    family = article.locator("code", has_text="arn:aws:iam").first.evaluate("e => getComputedStyle(e).fontFamily")
    assert "mono" in family.lower()
    statements = article.locator("pre.json").first
    assert json.loads(statements.inner_text()) == [{"Effect": "Allow", "Action": ["*"], "Resource": "*"}]
    assert article.locator("time", has_text="2026-05-17").get_attribute("datetime") == "2026-05-17T06:44:00+00:00"
    raw = article.locator("details.raw")
    assert not raw.locator("pre").is_visible()
    raw.locator("summary").click()
    assert json.loads(raw.locator("pre").inner_text())["actions"][19] == "codepipeline:pollforjobs19"
    # no Python reprs anywhere on the page
    text = page.inner_text("main")
    assert "['" not in text and "{'" not in text
    page.goto(f"{live_server.url}/bots/pay-bot/")
    why = page.locator("#why")
    assert why.locator("h2").inner_text().startswith("Why ")
    assert why.locator("tbody tr").count() == 3  # the leak, the stale key, the policy finding
    why.screenshot(path=str(shots / "why.png"))
    context.close()
