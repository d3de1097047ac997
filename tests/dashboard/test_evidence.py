"""Evidence for people (dashboard/templatetags/evidence.py) on the bot and finding pages: lists as chips
with "N more" folded, policy statements as formatted JSON, ARNs and paths monospace, dates as dates, the
raw JSON behind a toggle; payloads stay escaped; the JSON outputs keep the stored evidence unchanged."""

import json
import re

import pytest

from dashboard.templatetags.evidence import CHIPS_SHOWN, evidence_rows, points
from scanners.scoring import bot_scores_compute
from tests.dashboard.conftest import make_finding

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
ACTIONS = [f"codepipeline:pollforjobs{n}" for n in range(12)] + [SCRIPT]
EVIDENCE = {
    "principal": "arn:aws:iam::123456789012:role/pay-bot",
    "actions": ACTIONS,
    "statements": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": "*", "Sid": IMG}],
    "created": "2026-05-17T06:44:00.087389+00:00",
    "path": "secret/data/payments/*",
    "age_days": 20455,
    "note": IMG,
}


@pytest.mark.fast
def test_rows_classify_lists_json_monospace_and_dates():
    rows = {r["key"]: r for r in evidence_rows(EVIDENCE)}
    assert rows["actions"]["kind"] == "list" and len(rows["actions"]["shown"]) == CHIPS_SHOWN
    assert rows["actions"]["more"] == len(ACTIONS) - CHIPS_SHOWN
    assert rows["statements"]["kind"] == "json" and json.loads(rows["statements"]["text"]) == EVIDENCE["statements"]
    assert "\n  " in rows["statements"]["text"]  # indented, not one line
    assert rows["principal"]["value"]["kind"] == "mono" and rows["path"]["value"]["kind"] == "mono"
    assert rows["created"]["value"] == {"kind": "date", "text": "2026-05-17", "iso": EVIDENCE["created"],
                                        "title": "2026-05-17 06:44 UTC"}
    assert rows["age_days"]["value"]["text"] == "20,455" and rows["note"]["value"]["kind"] == "text"
    assert "locations" not in {r["key"] for r in evidence_rows({"locations": [], "a": 1})}


@pytest.mark.fast
@pytest.mark.parametrize(("value", "text"), [(0, "0"), (30, "30.0"), (10.5, "10.5"), (0.0426, "0.04"),
                                             (0.004, "<0.01"), ("x", "")])
def test_points_never_print_a_contribution_as_zero(value, text):
    assert points(value) == text


@pytest.fixture
def evidence_finding(world):
    return make_finding(world["bot_a"], "aws.policy.admin", severity="critical", category="over_broad_access",
                        evidence=EVIDENCE)


def _no_payload(html):
    for payload in (SCRIPT, IMG):
        assert payload not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("page", ["finding", "bot"])
def test_pages_render_evidence_for_people_and_escape_it(login, world, evidence_finding, page):
    url = f"/findings/{evidence_finding.pk}/" if page == "finding" else "/bots/pay-bot/"
    html = login(world["users"]["auditor"]).get(url).content.decode()
    article = html[html.index(f'id="finding-{evidence_finding.pk}"'):]
    article = article[:article.index("</article>")]
    _no_payload(article)
    assert "['" not in article and "{'" not in article  # no Python reprs
    assert article.count('<li class="chip">') == len(ACTIONS)
    assert f"<summary>{len(ACTIONS) - CHIPS_SHOWN} more</summary>" in article
    assert "<code>arn:aws:iam::123456789012:role/pay-bot</code>" in article
    assert "<code>secret/data/payments/*</code>" in article
    assert re.search(r'<time datetime="2026-05-17T06:44:00.087389\+00:00"[^>]*>2026-05-17</time>', article)
    statements = re.search(r'<dt>Statements</dt>\s*<dd><pre class="json">(.*?)</pre>', article, re.S).group(1)
    assert "&quot;Effect&quot;: &quot;Allow&quot;" in statements and "\n" in statements
    raw = re.search(r'<details class="raw"><summary>Raw evidence \(JSON\)</summary><pre class="json">(.*?)</pre>',
                    article, re.S).group(1)
    assert "&quot;principal&quot;: &quot;arn:aws:iam::123456789012:role/pay-bot&quot;" in raw


def test_json_outputs_keep_the_stored_evidence(login, world, evidence_finding, settings):
    client = login(world["users"]["auditor"])
    body = client.get(f"/api/v1/findings/{evidence_finding.pk}/").json()
    assert body["evidence"] == EVIDENCE


def test_bot_page_explains_why_its_score(login, world, evidence_finding):
    run = world["run"]
    bot_scores_compute(audit_run=run)
    score = world["bot_a"].scores.get(audit_run=run)
    html = login(world["users"]["auditor"]).get("/bots/pay-bot/").content.decode()
    why = html[html.index('id="why"'):]
    why = why[:why.index("</section>")]
    assert f"<h2>Why {score.score}</h2>" in why
    rows = re.findall(r"<tr>\s*<td><a href=\"/findings/(\d+)/\">", why)
    assert sorted(int(pk) for pk in rows) == sorted(i["finding"] for i in score.breakdown["items"])
    assert len(rows) == 3  # the leak, the stale key and the admin policy: every active finding of the bot
    added = [float(x) for x in re.findall(r'<td class="num">\+([\d.]+)</td>', why)]
    assert sum(added) == pytest.approx(score.breakdown["raw"], abs=0.1) and round(sum(added)) == score.score
    assert f"Why {score.score}?" in html
