"""BotAudit's parsed detectors, run by Detector.scan after the regex rules: values assigned by
key name (assignments.py) and credential-file formats (credfiles.py), each judged by values.py.
Yields (rule id, value, start, end, (confidence, reasons)) for the values that are secrets."""

from __future__ import annotations

from .assignments import assignments_find
from .credfiles import credfiles_find
from .values import value_judge

ASSIGNED = "assigned-credential"


def parsed_find(text: str, *, path: str):
    seen = set()
    for rule_id, value, start, end in credfiles_find(text, path=path):
        judged = value_judge(value=value, kind="credfile", line="", path=path)
        if judged is not None:
            seen.add(start)
            yield rule_id, value, start, end, judged
    for word, value, start, end in assignments_find(text, path=path):
        if start in seen:
            continue
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", start)
        line = text[line_start: line_end if line_end >= 0 else len(text)]
        judged = value_judge(value=value, kind="assigned", line=line, path=path, key=word, strict=True)
        if judged is not None:
            yield ASSIGNED, value, start, end, judged
