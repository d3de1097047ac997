"""HTML, formula and header payloads in every field that can reach an output: manifest fields (team
and bot names, owner, description, environment, credential names/refs/services, identity refs,
repository names and URLs, connector names), file names, rule ids and commit messages from the git
scanner, and probe errors. They go through a real import, a real audit (git probe on a real
repository) and then every page (found by walking the URL resolver), both digest emails and their
preview, the CSV/XLSX exports and the CLI. Nowhere does a payload reach HTML unescaped."""

import csv
import io
import json

import openpyxl
import pytest
from django.core.management import call_command

from inventory.accounts import user_grant
from inventory.manifest import fleet_import, manifest_parse
from inventory.models import Bot, Team
from scanners.digest.services import digest_groups_list, digest_prepare
from scanners.digest.weeks import week_containing
from scanners.services.audit import audit_run_in_process
from tests.helpers import units_rollup
from tests.scanners.git.gitrepo import Repo, github_pat
from tests.security.test_permissions import endpoints

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
PAYLOADS = (SCRIPT, IMG, "<svg onload=alert(3)>")
FORMULA = "=HYPERLINK(\"http://evil.example/\",\"x\")"


def _quoted(text):
    return json.dumps(text)


@pytest.fixture
def hostile(db, tmp_path, settings):
    settings.REDIS_URL = ""
    settings.BOTAUDIT_GIT_CACHE_DIR = str(tmp_path / "cache")
    repo = Repo(tmp_path / "hostile-repo")
    repo.commit({"README.md": "hi\n"}, message=f"init {SCRIPT}")
    repo.commit({f"{IMG}.env": f"TOKEN={github_pat()}\n", f"{SCRIPT}/cfg.py": f"T = '{github_pat()}'\n"},
                message=f"add {IMG} {SCRIPT}")
    rules = tmp_path / "rules.toml"
    rules.write_text('[extend]\nuseDefault = true\n\n[[rules]]\nid = "x<svg onload=alert(3)>"\n'
                     "regex = '''\\b(ghp_[A-Za-z0-9]{36})\\b'''\nsecretGroup = 1\nkeywords = [\"ghp_\"]\n")
    text = f"""
teams:
  - name: {_quoted("t" + SCRIPT)}
    email: team@example.com
repositories:
  - name: {_quoted("r" + IMG)}
    url: {_quoted(str(repo.path))}
  - name: {_quoted("gone" + SCRIPT)}
    url: {_quoted(str(tmp_path / ("missing" + IMG)))}
connectors:
  - name: {_quoted("git" + SCRIPT)}
    kind: git
    rules: {_quoted(str(rules))}
bots:
  - name: {_quoted("b" + IMG)}
    team: {_quoted("t" + SCRIPT)}
    owner: owner@example.com
    environment: {_quoted(IMG)}
    description: {_quoted(SCRIPT + IMG + FORMULA)}
    identities:
      - {{kind: aws_iam_user, ref: {_quoted("arn:" + IMG)}}}
    credentials:
      - {{name: {_quoted(FORMULA)}, store: env_var, ref: {_quoted(SCRIPT)}, service: {_quoted(IMG)}}}
    repositories: [{_quoted("r" + IMG)}, {_quoted("gone" + SCRIPT)}]
"""
    fleet_import(manifest=manifest_parse(text=text, source="hostile.yaml"))
    run = audit_run_in_process(trigger="test")
    team = Team.objects.get()
    viewer, _ = user_grant(email="viewer@example.com", role="viewer", team_name=team.name, password="pw-1234567890")
    auditor, _ = user_grant(email="auditor@example.com", role="auditor", password="pw-1234567890")
    admin, _ = user_grant(email="admin@example.com", role="admin", password="pw-1234567890")
    return {"run": run, "team": team, "bot": Bot.objects.get(), "users": [viewer, auditor, admin]}


def assert_escaped(html, where):
    for payload in PAYLOADS:
        assert payload not in html, f"{where}: unescaped {payload}"


def test_the_payloads_really_went_through(hostile):
    """The fixture is meaningful: the audit found the leaks in hostile file names and failed on the
    hostile missing repository, so those strings exist in findings and probe errors."""
    git = units_rollup(hostile["run"], "git")  # one unit per repository: the missing one failed
    assert git.status == "partial" and "gone<script>" in git.error
    from scanners.models import Finding

    leaks = list(Finding.objects.filter(check_id="git.secret.leaked"))
    files = {loc.get("file") for f in leaks for loc in f.evidence.get("locations", [])}
    assert f"{IMG}.env" in files and f"{SCRIPT}/cfg.py" in files
    assert any("x<svg onload=alert(3)>" in f.evidence.get("rule_ids", []) for f in leaks)


def test_every_page_escapes_every_payload(client, hostile):
    from django.contrib.contenttypes.models import ContentType

    from api.tokens import api_token_create
    from scanners.models import Finding

    objects = {"bot": hostile["bot"], "team": hostile["team"], "finding": Finding.objects.order_by("pk").first(),
               "admin_user": hostile["users"][2], "content_type": ContentType.objects.get_for_model(Bot),
               "token": api_token_create(user=hostile["users"][0], name=SCRIPT)[0]}
    pages = [url for url, _ in endpoints(objects)] + [
        f"/digest/{hostile['team'].slug}/?week={week_containing(hostile['run'].started).label}",
        f"/digest/?week={week_containing(hostile['run'].started).label}",
        f"/bots/?q={IMG}", f"/findings/?check_id={SCRIPT}", f"/bots/?environment={IMG}",
    ]
    checked = 0
    for user in hostile["users"]:
        client.force_login(user)
        for url in pages:
            response = client.get(url)
            assert response.status_code < 500, url
            if "html" in response.get("Content-Type", ""):
                assert_escaped(response.content.decode(), f"{url} as {user}")
                checked += 1
    assert checked > 50


def test_every_email_part_and_the_preview_escape_them(client, hostile):
    week = week_containing(hostile["run"].started)
    for group in digest_groups_list():
        rendered = digest_prepare(group=group, week=week).rendered
        assert_escaped(rendered.html, f"{group} HTML part")
        assert_escaped(rendered.body_html, f"{group} HTML body")
        assert "\n" not in rendered.subject and "\r" not in rendered.subject
        if group != "security":
            assert SCRIPT in rendered.text  # the plain-text part is plain: the payload is inert text there
    client.force_login(hostile["users"][1])
    page = client.get(f"/digest/{hostile['team'].slug}/", {"week": week.label}).content.decode()
    assert_escaped(page, "digest preview")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown, as text


def _cells_csv(text):
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_exports_neutralise_formulas_and_keep_payloads_as_text(client, hostile, tmp_path):
    from inventory.models import Bot
    from tests.helpers import finding_make

    # subjects hold ids now, so a finding's title carries the formula into the findings CSV
    finding_make(check_id="inventory.bot.no_owner", bot=Bot.objects.filter(team=hostile["team"]).first(), title=FORMULA)
    out = io.StringIO()
    call_command("export_audit", stdout=out)
    client.force_login(hostile["users"][1])
    web_csv = b"".join(client.get("/export/audit.csv").streaming_content).decode()
    findings_csv = b"".join(client.get("/export/findings.csv").streaming_content).decode()
    call_command("export_audit", "--format", "xlsx", "-o", str(tmp_path / "a.xlsx"))
    book = openpyxl.load_workbook(tmp_path / "a.xlsx")
    xlsx_cells = [str(c.value) for row in book.active.iter_rows() for c in row if isinstance(c.value, str)]
    for name, cells in (("CLI CSV", _cells_csv(out.getvalue())), ("web CSV", _cells_csv(web_csv)),
                        ("findings CSV", _cells_csv(findings_csv)), ("XLSX", xlsx_cells)):
        assert any(FORMULA in cell for cell in cells), name
        assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))], name


def test_cli_outputs_carry_no_control_sequences(hostile):
    out = io.StringIO()
    call_command("findings", "--format", "table", stdout=out)
    call_command("fleet", "export", stdout=out)
    assert "\x1b" not in out.getvalue() and "\r" not in out.getvalue()
