"""The check catalogue: every registered check's metadata as rows, as a Markdown table, and the
README's generated blocks (`<!-- checks:<kind> -->` ... `<!-- /checks:<kind> -->`)."""

from __future__ import annotations

import re

from . import registry

COLUMNS = ("id", "kind", "severity", "category", "owasp", "title", "remediation")
MD_COLUMNS = ("id", "severity", "category", "owasp", "title", "remediation")
_BLOCK = re.compile(r"(<!-- checks:(?P<kind>[a-z_]+) -->\n)(?P<body>.*?)(<!-- /checks:(?P=kind) -->)", re.S)


def catalogue_rows(*, kind: str | None = None) -> list[dict]:
    """One dict per registered check (COLUMNS), by kind then id. An unknown kind is a ProbeError."""
    kinds = registry.kinds()
    if kind is not None and kind not in kinds:
        raise registry.ProbeError(f"unknown check kind {kind!r} (known: {', '.join(sorted(kinds))})")
    rows = [
        {"id": c.id, "kind": name, "severity": str(c.severity), "category": str(c.category), "owasp": c.owasp,
         "title": c.title, "remediation": c.remediation}
        for name, pk in kinds.items() if kind in (None, name) for c in pk.checks
    ]
    return sorted(rows, key=lambda r: (r["kind"], r["id"]))


def _md_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def catalogue_markdown(*, kind: str | None = None) -> str:
    """A Markdown table of the catalogue (ids in backticks), ending with a newline."""
    lines = ["| " + " | ".join(MD_COLUMNS) + " |", "|" + "---|" * len(MD_COLUMNS)]
    for row in catalogue_rows(kind=kind):
        cells = [f"`{row['id']}`"] + [_md_cell(row[c]) for c in MD_COLUMNS[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def readme_blocks(text: str) -> dict[str, str]:
    """{kind: body} of every generated block in `text`."""
    return {m["kind"]: m["body"] for m in _BLOCK.finditer(text)}


def readme_regenerate(text: str) -> str:
    """`text` with every generated block refilled from the catalogue."""
    return _BLOCK.sub(lambda m: m.group(1) + catalogue_markdown(kind=m["kind"]) + m.group(4), text)
