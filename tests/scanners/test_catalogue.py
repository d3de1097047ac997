"""The check catalogue: validated at registration, every @check registered, README equal to it."""

import ast
import importlib
import json
from dataclasses import replace
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from scanners import registry
from scanners.catalogue import catalogue_markdown, catalogue_rows, readme_blocks, readme_regenerate
from scanners.registry import CatalogueError, Check, ProbeKind, check

pytestmark = pytest.mark.fast
ROOT = Path(__file__).resolve().parents[2]
GOOD = {"severity": "high", "category": "hygiene", "title": "T", "remediation": "Fix it.", "owasp": "NHI5"}


def _is_check_call(node) -> bool:
    return isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "check"


def _decorated_functions() -> list[tuple[str, str]]:
    """(module, name) of every check defined under scanners/, read from the source (so a check left
    out of every import is found too): functions decorated with `@check(...)` and module-level
    `name = check(...)(fn)` assignments."""
    found = []
    for path in sorted((ROOT / "scanners").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and any(_is_check_call(d) for d in node.decorator_list):
                found.append((module, node.name))
        for node in tree.body:
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _is_check_call(node.value.func)
                    and isinstance(node.targets[0], ast.Name)):
                found.append((module, node.targets[0].id))
    return found


def test_every_check_function_is_registered_in_its_kind():
    decorated = _decorated_functions()
    assert len(decorated) >= 35  # the shipped catalogue: the walk really found the checks
    unregistered = []
    for module, name in decorated:
        chk = getattr(importlib.import_module(module), name)
        kind = registry.kinds().get(chk.id.split(".")[0])
        if kind is None or chk not in kind.checks:
            unregistered.append(f"{module}.{name} ({chk.id})")
    assert unregistered == []
    assert len(decorated) == len(registry.all_checks())


def test_registered_ids_are_unique_and_prefixed_by_their_kind():
    ids = [c.id for c in registry.all_checks()]
    assert len(ids) == len(set(ids))
    for kind, probe_kind in registry.kinds().items():
        assert all(c.id.startswith(kind + ".") for c in probe_kind.checks), kind


@pytest.mark.parametrize(("field", "value", "message"), [
    ("severity", "urgent", "severity 'urgent' not one of critical"),
    ("category", "misc", "category 'misc' not one of"),
    ("owasp", "NHI11", "owasp 'NHI11' not one of NHI1..NHI10"),
    ("owasp", "", "owasp '' not one of"),
    ("remediation", "  ", "remediation is empty"),
    ("title", "", "title is empty"),
])
def test_decorator_rejects_bad_metadata_naming_check_and_field(field, value, message):
    with pytest.raises(CatalogueError, match=message) as exc:
        check(id="aws.thing.bad", **{**GOOD, field: value})(lambda obs, ctx: [])
    assert "'aws.thing.bad'" in str(exc.value) and "test_catalogue" in str(exc.value)


def test_decorator_rejects_malformed_id():
    with pytest.raises(CatalogueError, match="id must be lowercase dotted"):
        check(id="AwsBad", **GOOD)(lambda obs, ctx: [])


def test_register_rejects_wrong_prefix_duplicates_and_ids_of_other_kinds():
    mine = check(id="zzkind.thing.bad", **GOOD)(lambda obs, ctx: [])
    foreign = check(id="aws.thing.bad", **GOOD)(lambda obs, ctx: [])
    with pytest.raises(CatalogueError, match="must start with 'zzkind.'"):
        registry.register(ProbeKind(kind="zzkind", collect=None, checks=[mine, foreign]))
    with pytest.raises(CatalogueError, match="registered twice"):
        registry.register(ProbeKind(kind="zzkind", collect=None, checks=[mine, mine]))
    stolen = registry.get("aws").checks[0]
    with pytest.raises(CatalogueError, match="already registered by probe kind 'aws'"):
        registry.register(ProbeKind(kind="aws2", collect=None, checks=[replace(stolen, id="aws2.x.y"), stolen]))
    with pytest.raises(CatalogueError, match="is not a @check"):
        registry.register(ProbeKind(kind="zzkind", collect=None, checks=[lambda obs, ctx: []]))
    assert "zzkind" not in registry.kinds() and "aws2" not in registry.kinds()


def test_register_revalidates_checks_built_without_the_decorator():
    raw = Check(id="zzkind.thing.bad", run=lambda obs, ctx: [], **{**GOOD, "owasp": "NHI0"})
    with pytest.raises(CatalogueError, match="owasp 'NHI0'"):
        registry.register(ProbeKind(kind="zzkind", collect=None, checks=[raw]))


def test_check_get_names_unknown_ids():
    assert registry.check_get("aws.key.stale").severity == "medium"
    with pytest.raises(registry.ProbeError, match="unknown check id 'git.secret.leak'"):
        registry.check_get("git.secret.leak")


def test_catalogue_rows_cover_every_registered_check_with_every_column():
    rows = catalogue_rows()
    assert rows == sorted(rows, key=lambda r: (r["kind"], r["id"]))
    assert {r["id"] for r in rows} == {c.id for c in registry.all_checks()}
    stale = next(r for r in rows if r["id"] == "aws.key.stale")
    assert stale == {"id": "aws.key.stale", "kind": "aws", "severity": "medium", "category": "stale_credential",
                     "owasp": "NHI7", "title": stale["title"], "remediation": registry.check_get("aws.key.stale")
                     .remediation}
    assert all(r["remediation"] and r["title"] for r in rows)


def test_checks_command_formats(capsys):
    call_command("checks", "--format", "json", "--kind", "vault")
    data = json.loads(capsys.readouterr().out)
    assert {r["kind"] for r in data} == {"vault"}
    assert {r["id"] for r in data} == {c.id for c in registry.get("vault").checks}
    call_command("checks", "--format", "md", "--kind", "git")
    out = capsys.readouterr().out
    assert out == catalogue_markdown(kind="git") and "| `git.secret.leaked` | high | leak | NHI2 |" in out
    call_command("checks")
    out = capsys.readouterr().out
    assert all(c.id in out for c in registry.all_checks()) and "remediation:" in out
    with pytest.raises(CommandError, match="unknown check kind 'nope'"):
        call_command("checks", "--kind", "nope")


def test_readme_check_tables_equal_the_catalogue():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = readme_blocks(text)
    assert set(blocks) == set(registry.kinds()), "one generated block per probe kind"
    for kind, body in blocks.items():
        assert body == catalogue_markdown(kind=kind), (
            f"README check table for {kind!r} is stale: run `python manage.py checks --write-readme README.md`")


def test_write_readme_refills_only_the_blocks(tmp_path, capsys):
    path = tmp_path / "doc.md"
    path.write_text("intro\n<!-- checks:git -->\n| stale |\n<!-- /checks:git -->\noutro\n", encoding="utf-8")
    call_command("checks", "--write-readme", str(path))
    text = path.read_text(encoding="utf-8")
    assert text == readme_regenerate(text) and text.startswith("intro\n") and text.endswith("outro\n")
    assert "| stale |" not in text and "`git.secret.leaked_active_aws_key`" in text
    assert "updated" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no such file"):
        call_command("checks", "--write-readme", str(tmp_path / "missing.md"))
