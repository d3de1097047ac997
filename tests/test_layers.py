"""The import-layer contract: inventory <- scanners <- dashboard <- api, devtools above all, no cycles.

A package may import only from packages below it. Read from the source with `ast` (every
`import` and `from ... import`, also inside functions), so a lazy import cannot hide a back edge.
`make lint` runs this file; so does the whole suite."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Each layer and the project packages it may import (besides itself).
ALLOWED = {
    "inventory": set(),
    "scanners": {"inventory"},
    "dashboard": {"inventory", "scanners"},
    "api": {"inventory", "scanners", "dashboard"},
    "devtools": {"inventory", "scanners", "dashboard", "api"},
}
PROJECT = set(ALLOWED) | {"botaudit"}


def project_imports(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, top-level project package) of every import in the file; relative imports resolve
    to the file's own package."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [package] if node.level else [node.module or ""]
        else:
            continue
        out += [(node.lineno, name.split(".")[0]) for name in names if name.split(".")[0] in PROJECT]
    return out


def violations(package: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, target in project_imports(path, package):
            if target != package and target not in ALLOWED[package]:
                found.append(f"{path.relative_to(ROOT)}:{line}: {package} imports {target}")
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_layer_imports_only_below(package):
    assert violations(package) == []


def test_contract_catches_a_back_edge(tmp_path, monkeypatch):
    """The checker itself: a scanners module importing the dashboard is reported."""
    (tmp_path / "scanners").mkdir()
    (tmp_path / "scanners" / "bad.py").write_text("def f():\n    from dashboard.views import fleet\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert violations("scanners") == ["scanners/bad.py:2: scanners imports dashboard"]


def test_devtools_is_not_installed_in_production():
    import subprocess
    import sys

    code = ("import django; django.setup(); from django.conf import settings; "
            "print('devtools' in settings.INSTALLED_APPS)")
    env = {"DJANGO_SETTINGS_MODULE": "botaudit.settings", "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "x" * 50,
           "BOTAUDIT_FINGERPRINT_KEY": "k", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
