"""Hostile manifests: alias bombs, deep nesting, wrong types, NUL and control characters, huge
files. Each is a clear `file:line: field: message` error within a second, and nothing is written."""

import io

import pytest
from django.core.management import CommandError, call_command

from inventory.manifest import ManifestError, manifest_parse
from inventory.manifest.loader import MAX_ALIAS_NODES, MAX_DEPTH, MAX_MANIFEST_BYTES
from inventory.models import AuditLogEntry, Bot, Repository, Team
from tests.security.deadline import deadline

BASE = "teams:\n  - name: t\nrepositories:\n  - {name: r, url: demo/repos/r}\n"


def alias_bomb(levels=9, width=9):
    lines = ['a0: &a0 ["lol"]']
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [{', '.join(f'*a{level - 1}' for _ in range(width))}]")
    body = "\n".join(f"      {line}" for line in lines)
    return f"teams:\n  - name: t\nconnectors:\n  - name: c\n    kind: git\n    bomb:\n{body}\n"


def error_of(text, source="fleet.yaml"):
    with deadline(5, "manifest_parse"), pytest.raises(ManifestError) as caught:
        manifest_parse(text=text, source=source)
    return str(caught.value)


def test_alias_bomb_is_refused_quickly():
    message = error_of(alias_bomb())
    assert message.startswith("fleet.yaml:") and "aliases" in message


def test_a_few_small_aliases_are_fine():
    text = BASE + "connectors:\n  - name: c\n    kind: git\n    x: &x [1, 2]\n    y: *x\n"
    assert manifest_parse(text=text, source="fleet.yaml").connectors[0].options["y"] == [1, 2]


def test_aliases_expanding_past_the_limit_are_refused_even_when_few():
    big = ", ".join(str(i) for i in range(MAX_ALIAS_NODES + 10))
    text = f"connectors:\n  - name: c\n    kind: git\n    x: &x [{big}]\n    y: *x\n"
    assert "aliases" in error_of(text)


@pytest.mark.parametrize("opening,closing", [("[", "]"), ("{a: ", "}")])
def test_deep_nesting_is_a_clear_error(opening, closing):
    depth = 5000
    text = f"connectors:\n  - name: c\n    kind: git\n    deep: {opening * depth}1{closing * depth}\n"
    message = error_of(text)
    assert message.startswith("fleet.yaml:4: ") and f"nested deeper than {MAX_DEPTH}" in message


def test_block_nesting_too():
    text = "connectors:\n  - name: c\n    kind: git\n    deep:\n"
    text += "".join(f"{'  ' * (i + 3)}k{i}:\n" for i in range(MAX_DEPTH + 5)) + f"{'  ' * (MAX_DEPTH + 8)}v\n"
    assert f"nested deeper than {MAX_DEPTH}" in error_of(text)


def test_oversized_file_is_refused_before_parsing(tmp_path, db):
    path = tmp_path / "fleet.yaml"
    path.write_text(BASE + "# " + "x" * MAX_MANIFEST_BYTES + "\n")
    with deadline(5, "fleet import"), pytest.raises(CommandError) as caught:
        call_command("fleet", "import", str(path), stdout=io.StringIO())
    assert f"{path}: larger than {MAX_MANIFEST_BYTES} bytes" in str(caught.value)


@pytest.mark.parametrize("field,value,expected", [
    ("teams[0].name", "[a, b]", "expected a string, got a list"),
    ("teams[0].name", "{a: 1}", "expected a string, got a mapping"),
    ("teams[0].email", "[x@example.com]", "expected a string, got a list"),
    ("teams[0].members", "x@example.com", "expected a list, got string"),
])
def test_wrong_types_in_teams(field, value, expected):
    key = field.rsplit(".", 1)[1]
    text = f"teams:\n  - name: t\n    {key}: {value}\n" if key != "name" else f"teams:\n  - name: {value}\n"
    assert f"{field}: {expected}" in error_of(text)


@pytest.mark.parametrize("line,expected", [
    ("team: [t]", "bots[0].team: expected a string, got a list"),
    ("repositories: [[r]]", "bots[0].repositories[0]: expected a string, got a list"),
    ("repositories: [{r: 1}]", "bots[0].repositories[0]: expected a string, got a mapping"),
    ("repositories: r", "bots[0].repositories: expected a list, got string"),
    ("identities: {kind: aws_role}", "bots[0].identities: expected a list, got a mapping"),
    ("credentials: [[x]]", "bots[0].credentials[0]: expected a mapping, got a list"),
    ("description: {a: 1}", "bots[0].description: expected a string, got a mapping"),
    ("status: [active]", "bots[0].status: expected a string, got a list"),
])
def test_wrong_types_in_bots(line, expected):
    text = BASE + f"bots:\n  - name: b\n    team: t\n    {line}\n".replace("team: t\n    team:", "team:")
    message = error_of(text)
    assert expected in message and message.startswith("fleet.yaml:")


@pytest.mark.parametrize("value", ['"a\\0b"', '"a\\x01b"', '"a\\x1bb"', '"a\\x7fb"', '"a\\rb"', '"a\\u0000"'])
@pytest.mark.parametrize("where", ["team", "description", "environment", "credential", "option", "member", "key"])
def test_nul_and_control_characters_are_refused(value, where):
    texts = {
        "team": f"teams:\n  - name: {value}\n",
        "description": BASE + f"bots:\n  - name: b\n    team: t\n    description: {value}\n",
        "environment": BASE + f"bots:\n  - name: b\n    team: t\n    environment: {value}\n",
        "credential": BASE + f"bots:\n  - name: b\n    team: t\n    credentials:\n"
                             f"      - {{name: {value}, store: env_var}}\n",
        "option": f"connectors:\n  - name: c\n    kind: git\n    extra: [{value}]\n",
        "member": f"teams:\n  - name: t\n    members: [{value}]\n",
        "key": f"connectors:\n  - name: c\n    kind: git\n    {value}: 1\n",
    }
    message = error_of(texts[where])
    assert "control character" in message and message.startswith("fleet.yaml:")


def test_tab_and_newline_in_a_description_are_allowed():
    text = BASE + 'bots:\n  - name: b\n    team: t\n    description: "line one\\n\\tline two"\n'
    assert manifest_parse(text=text, source="fleet.yaml").bots[0].description == "line one\n\tline two"


def test_binary_file_is_a_clear_error(tmp_path, db):
    path = tmp_path / "fleet.yaml"
    path.write_bytes(b"teams:\n  - name: \xff\xfe\x00\x00\n")
    with pytest.raises(CommandError, match=f"{path}"):
        call_command("fleet", "import", str(path), stdout=io.StringIO())


@pytest.mark.parametrize("text", [
    alias_bomb(),
    BASE + 'bots:\n  - name: b\n    team: t\n    description: "x\\0y"\n',
    BASE + "bots:\n  - name: b\n    team: t\n    repositories: [[r]]\n",
    "connectors:\n  - name: c\n    kind: git\n    deep: " + "[" * 3000 + "]" * 3000 + "\n",
])
def test_nothing_is_written(tmp_path, db, text):
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    with deadline(10, "fleet import"), pytest.raises(CommandError, match="nothing written"):
        call_command("fleet", "import", str(path), stdout=io.StringIO())
    assert not Team.objects.exists() and not Bot.objects.exists() and not Repository.objects.exists()
    assert not AuditLogEntry.objects.exists()
