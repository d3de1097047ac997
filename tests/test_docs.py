"""The repository documents its own design: docs/architecture.md and the README's layout section
name only files and code that exist, every top-level package is in the layout table, and nothing
sends readers outside the repository."""

import importlib
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast
ROOT = Path(__file__).resolve().parent.parent
ARCH = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
PACKAGES = ("inventory", "scanners", "dashboard", "api", "devtools", "botaudit")


def _layout_section() -> str:
    return README.split("## Layout", 1)[1].split("\n## ", 1)[0]


def test_layout_table_lists_every_top_level_package():
    section = _layout_section()
    tracked = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    assert tracked == set(PACKAGES)
    for name in (*PACKAGES, "templates", "tests", "benchmarks", "docs"):
        assert f"| `{name}/` |" in section or f"`{name}/`" in section, name


@pytest.mark.parametrize("text", [ARCH, README], ids=["architecture", "readme"])
def test_paths_named_in_the_docs_exist(text):
    paths = set(re.findall(r"`((?:inventory|scanners|dashboard|api|devtools|botaudit|tests|templates|docs|benchmarks)"
                           r"/[A-Za-z0-9_./<>-]*)`", text))
    missing = [p for p in sorted(paths) if "<" not in p and not (ROOT / p).exists()]
    assert missing == []


def test_dotted_names_in_architecture_import():
    names = set(re.findall(r"`((?:inventory|scanners|dashboard|api|devtools|tests)\.[a-z_.]+(?:\.[A-Za-z_]+)?)`", ARCH))
    assert len(names) >= 10
    broken = []
    for dotted in sorted(names):
        module, _, attr = dotted.rpartition(".")
        try:
            if not hasattr(importlib.import_module(module), attr):
                importlib.import_module(dotted)
        except ImportError:
            broken.append(dotted)
    assert broken == []


def test_nothing_points_outside_the_repository():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    pattern = re.compile(r"\.\./shared|ARCHITECTURE\.md")
    offenders = [f for f in files if f != "tests/test_docs.py" and (ROOT / f).is_file()
                 and f.endswith((".py", ".md", ".html", ".txt", ".toml", ".yml", ".yaml", "Makefile"))
                 and pattern.search((ROOT / f).read_text(encoding="utf-8", errors="replace"))]
    assert offenders == []
