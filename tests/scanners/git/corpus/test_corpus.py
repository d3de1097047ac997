"""Recall and precision on the labelled corpus (generate.py): every labelled secret line is found at
its line, per format; credential files have no finding on another line; decoys have none, except
documentation pairs on placeholder hosts, which are low confidence. Confidence and reasons, and no
drawn value in any output of scan_repo."""

import io
import json
from collections import defaultdict

import pytest
from django.core.management import call_command

from scanners.git.detector import Detector
from scanners.git.rules import rules_load
from scanners.git.values import value_judge
from tests.scanners.git.corpus.generate import corpus_build
from tests.scanners.git.gitrepo import Repo

FILES, VALUES = corpus_build(seed=10)
BY_FORMAT = defaultdict(list)
for _f in FILES:
    BY_FORMAT[_f.fmt].append(_f)
CREDENTIAL_FORMATS = sorted({f.fmt for f in FILES if not f.decoy})
DECOY_FORMATS = sorted({f.fmt for f in FILES if f.decoy})


@pytest.fixture(scope="module")
def detector():
    return Detector(rules_load())


def test_corpus_size():
    credential = [f for f in FILES if not f.decoy]
    assert len(credential) >= 60 and sum(len(f.secret_lines) for f in credential) >= 150
    assert len([f for f in FILES if f.decoy]) >= 30
    assert len({f.path for f in FILES}) == len(FILES)


@pytest.mark.parametrize("fmt", CREDENTIAL_FORMATS)
def test_recall_per_format(detector, fmt):
    for f in BY_FORMAT[fmt]:
        found = detector.scan(f.text, path=f.path)
        lines = sorted({m.line for m in found})
        assert lines == f.secret_lines, (f.path, [(m.rule_id, m.line, m.reasons) for m in found])
        assert all(m.confidence in ("high", "medium") for m in found), (f.path, found)


@pytest.mark.parametrize("fmt", DECOY_FORMATS)
def test_no_decoy_hits(detector, fmt):
    for f in BY_FORMAT[fmt]:
        found = detector.scan(f.text, path=f.path)
        if fmt == "docs-pair":  # shown as documentation examples, never above low
            assert found and all(m.confidence == "low" and "documentation pair" in m.reasons for m in found)
        else:
            assert found == [], (f.path, [(m.rule_id, m.line, m.reasons) for m in found])


def test_other_seeds_same_recall(detector):
    for seed in (1, 2, 3):
        files, _values = corpus_build(seed=seed)
        missed = [(f.path, f.secret_lines) for f in files
                  if sorted({m.line for m in detector.scan(f.text, path=f.path)}) != f.secret_lines
                  and f.fmt != "docs-pair"]
        assert missed == []


def test_modified_file_added_lines_only(detector):
    """A commit that adds one line to a config file: the unordered pass over added lines finds it."""
    (f,) = [f for f in FILES if f.path == "config/app.ini"]
    line = f.text.split("\n")[f.secret_lines[0] - 1]
    found = detector.scan(line + "\n", path=f.path, unordered=True)
    assert [m.rule_id for m in found] == ["assigned-credential"]


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"value": "x", "kind": "prefix", "path": "app/settings.py"}, ("high", ("known prefix",))),
    ({"value": "x", "kind": "prefix", "path": "tests/test_app.py"}, ("medium", ("known prefix", "test path"))),
    ({"value": "guest", "kind": "url", "line": "amqp://guest:guest@localhost//", "path": "app.py"}, "low"),
    ({"value": "k3Jd9sLq2Xm7Pw", "kind": "url", "line": "x://app:k3Jd9sLq2Xm7Pw@db.acme.io/", "path": "a"}, "medium"),
    ({"value": "k3Jd9sLq2Xm7Pw", "kind": "url", "line": "x://app:k3Jd9sLq2Xm7Pw@localhost/", "path": "a.py"}, "low"),
    ({"value": "k3Jd9sLq2Xm7Pw", "kind": "assigned", "key": "password", "path": "docs/setup.md"}, "low"),
    ({"value": "k3Jd9sLq2Xm7Pw", "kind": "assigned", "key": "password", "path": "config/app.ini"}, "medium"),
    ({"value": "${DB_PASSWORD}", "kind": "generic", "path": "a.env"}, None),
    ({"value": "{{ .Values.token }}", "kind": "assigned", "path": "a.yaml"}, None),
    ({"value": "%(password)s", "kind": "url", "path": "a.ini"}, None),
    ({"value": "your_api_key_here", "kind": "assigned", "path": "a.env", "strict": True}, None),
    ({"value": "6f1c0a3e-93b4-4c57-8d2e-0b6a5e9f1c2d", "kind": "generic", "path": "a.yml"}, None),
    ({"value": "sha512-" + "A" * 86 + "==", "kind": "generic", "path": "index.html"}, None),
    ({"value": "os.environ['TOKEN']", "kind": "generic", "path": "a.py"}, None),
])
def test_confidence_and_reasons(kwargs, expected):
    judged = value_judge(**kwargs)
    if expected is None or isinstance(expected, tuple):
        assert judged == expected
    else:
        assert judged is not None and judged[0] == expected, judged


def test_reasons_name_key_entropy_and_path():
    level, reasons = value_judge(value="k3Jd9sLq2Xm7Pw", kind="assigned", key="password", path="tests/conf.ini")
    assert level == "low" and reasons[0] == "key name 'password'" and reasons[1].startswith("entropy ")
    assert "test path" in reasons


def test_scan_repo_json_and_sarif_carry_confidence_never_values(tmp_path):
    repo = Repo(tmp_path / "corpus")
    repo.commit({f.path: f.text for f in FILES})
    outputs = {}
    for fmt in ("json", "sarif", "table"):
        out = io.StringIO()
        with pytest.raises(SystemExit):
            call_command("scan_repo", str(repo.path), "--format", fmt, stdout=out)
        outputs[fmt] = out.getvalue()
    for text in outputs.values():
        leaked = [v for v in VALUES.drawn if len(v) >= 8 and v in text]
        assert leaked == []
    findings = json.loads(outputs["json"])["findings"]
    labelled = {(f.path, n) for f in FILES for n in f.secret_lines}
    assert labelled <= {(x["file"], x["line"]) for x in findings}
    assert all(x["confidence"] in ("high", "medium", "low") and isinstance(x["reasons"], list) for x in findings)
    assert {x["confidence"] for x in findings if x["file"] == "home/.aws/credentials"} == {"high", "medium"}
    results = json.loads(outputs["sarif"])["runs"][0]["results"]
    assert len(results) == len(findings) and all(r["properties"]["confidence"] for r in results)


def test_history_added_line_carries_confidence(tmp_path):
    """A later commit adds a password line to an existing file: found at its line in that commit,
    with its confidence and reasons; a docs example in the same commit is low."""
    (f,) = [f for f in FILES if f.path == "config/app.ini"]
    lines = f.text.split("\n")
    secret = lines[f.secret_lines[0] - 1]
    repo = Repo(tmp_path / "hist")
    repo.commit({"config/app.ini": "[database]\nhost = db\n"})
    second = repo.commit({"config/app.ini": f"[database]\nhost = db\n{secret}\n",
                          "docs/broker.md": "url = amqp://guest:guest@localhost//\n"})
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("scan_repo", str(repo.path), "--format", "json", stdout=out)
    found = {x["file"]: x for x in json.loads(out.getvalue())["findings"]}
    assert found["config/app.ini"]["line"] == 3 and found["config/app.ini"]["commit"] == str(second)
    assert found["config/app.ini"]["confidence"] == "medium"
    assert found["config/app.ini"]["reasons"][0] == "key name 'password'"
    assert found["docs/broker.md"]["confidence"] == "low" and "docs path" in found["docs/broker.md"]["reasons"]
    assert secret.split("=", 1)[1].strip() not in out.getvalue()
