"""Evidence for people: `{% load evidence %}`, then `{% evidence_view f.evidence %}` renders a finding's
evidence (lists as chips with "N more" folded, policy statements as formatted JSON, ARNs and paths in
monospace, ISO dates as dates, the raw JSON behind a <details> toggle), and `points` prints a score
contribution. Values only ever reach the page through the template's autoescape: nothing here marks
text safe. JSON outputs (API, --json, exports) read the stored evidence and are unchanged."""

from __future__ import annotations

import json
import re
from datetime import datetime

from django import template

register = template.Library()

CHIPS_SHOWN = 8  # list items shown before the rest fold into "N more"
# Keys whose value is a policy document or statements: shown as formatted JSON.
JSON_KEYS = {"statements", "trust_statements", "policy_document", "document", "templates_resolved", "tags",
             "condition", "principal_map"}
# Keys rendered elsewhere on the finding (the leak locations table).
SKIPPED_KEYS = {"locations"}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
MONO = re.compile(r"^(?:arn:|[a-z][a-z0-9+.-]*://|[\w.~-]*/)|^[\w.-]+:[\w*.-]+$|^[A-Z0-9_]{3,}$")


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _scalar(value) -> dict:
    """One scalar as {"kind", "text", ...}: date, mono (ARNs, paths, URLs, actions), bool, number or text."""
    if value is None:
        return {"kind": "none", "text": "none"}
    if isinstance(value, bool):
        return {"kind": "text", "text": "yes" if value else "no"}
    if isinstance(value, int | float):
        return {"kind": "number", "text": f"{value:,}" if isinstance(value, int) else f"{value:g}"}
    text = str(value)
    if ISO_DATE.match(text):
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return {"kind": "date", "text": when.strftime("%Y-%m-%d"), "iso": text,
                    "title": when.strftime("%Y-%m-%d %H:%M %Z").strip()}
    return {"kind": "mono" if MONO.match(text) else "text", "text": text}


def evidence_rows(evidence) -> list[dict]:
    """(label, kind, value) rows for a finding's evidence dict, in its stored order."""
    rows = []
    for key, value in (evidence or {}).items():
        if key in SKIPPED_KEYS:
            continue
        row = {"key": key, "label": _label(key)}
        if key in JSON_KEYS or isinstance(value, dict) or (
                isinstance(value, list) and any(isinstance(v, dict | list) for v in value)):
            row.update(kind="json", text=json.dumps(value, indent=2, sort_keys=False, ensure_ascii=False))
        elif isinstance(value, list):
            items = [_scalar(v) for v in value]
            row.update(kind="list", shown=items[:CHIPS_SHOWN], folded=items[CHIPS_SHOWN:],
                       more=max(len(items) - CHIPS_SHOWN, 0), empty=not items)
        else:
            row.update(kind="scalar", value=_scalar(value))
        rows.append(row)
    return rows


@register.inclusion_tag("dashboard/_evidence.html")
def evidence_view(evidence, raw=True):
    rows = evidence_rows(evidence)
    raw_json = json.dumps(evidence, indent=2, sort_keys=True, ensure_ascii=False) if raw and evidence else ""
    return {"rows": rows, "raw_json": raw_json}


@register.filter
def points(value) -> str:
    """A score contribution: one decimal, or two below 0.1 (never printed as 0 when it is not)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    if number == 0:
        return "0"
    return f"{number:.1f}" if abs(number) >= 0.1 else f"{number:.2f}" if abs(number) >= 0.01 else "<0.01"
