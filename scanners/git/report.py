"""scan_repo output: JSON (the contract), SARIF 2.1.0, or a table. Values are never included —
only redacted previews and fingerprints."""

from __future__ import annotations

import json
from urllib.parse import quote

from inventory.text import text_printable

from .scan import ScanResult, leak_fingerprint, repo_scan_unbounded

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def _finding(leak) -> dict:
    return {
        "rule_id": leak.rule_id, "file": leak.file, "line": leak.line, "commit": leak.commit,
        "commit_date": leak.commit_date, "still_at_head": leak.still_at_head, "redacted": leak.redacted,
        "fingerprint": leak_fingerprint(leak), "secret_fingerprint": leak.secret_fingerprint,
        "confidence": leak.confidence, "reasons": list(leak.reasons),
    }


def report_json(result: ScanResult) -> str:
    s = result.stats
    return json.dumps({
        "findings": [_finding(leak) for leak in result.leaks],
        "stats": {"commits": s.commits, "blobs": s.blobs, "bytes": s.bytes, "seconds": round(result.seconds, 3),
                  "skipped": s.skipped},
        "errors": result.errors,
    }, indent=2)


def report_sarif(result: ScanResult, ruleset) -> str:
    used = sorted({leak.rule_id for leak in result.leaks})
    descriptions = {r.id: r.description or r.id for r in ruleset.rules}
    rules = [{"id": rid, "name": rid, "shortDescription": {"text": descriptions.get(rid, rid)},
              "defaultConfiguration": {"level": "error"}} for rid in used]
    results = []
    for leak in result.leaks:
        where = "still present at the tip of the default branch" if leak.still_at_head else "in history only"
        results.append({
            "ruleId": leak.rule_id,
            "ruleIndex": used.index(leak.rule_id),
            "level": "error",
            "message": {"text": f"{leak.rule_id} secret {leak.redacted} introduced in {leak.commit[:12]} ({where})"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": quote(leak.file, safe="/")},  # a URI reference: percent-encoded
                **({"region": {"startLine": leak.line}} if leak.line >= 1 else {}),  # line 0: a path-only rule
            }}],
            "partialFingerprints": {"botaudit/v1": leak_fingerprint(leak)},
            "properties": {"commit": leak.commit, "commitDate": leak.commit_date,
                           "stillAtHead": leak.still_at_head, "redacted": leak.redacted,
                           "confidence": leak.confidence},
        })
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "BotAudit", "informationUri": "https://github.com/botaudit/botaudit",
                                "rules": rules}},
            "results": results,
            "invocations": [{"executionSuccessful": not result.errors,
                             "toolExecutionNotifications": [{"message": {"text": e}, "level": "warning"}
                                                            for e in result.errors]}],
        }],
    }
    return json.dumps(sarif, indent=2)


def report_table(result: ScanResult) -> str:
    header = ("RULE", "FILE:LINE", "COMMIT", "DATE", "AT HEAD", "SECRET")
    rows = [header] + [
        (text_printable(leak.rule_id), text_printable(f"{leak.file}:{leak.line}"), leak.commit[:12],
         leak.commit_date[:10], "yes" if leak.still_at_head else "no", leak.redacted)
        for leak in result.leaks
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    s = result.stats
    lines.append(f"{len(result.leaks)} finding(s); {s.commits} commits, {s.blobs} blobs, "
                 f"{s.bytes} bytes in {result.seconds:.2f}s")
    lines += [f"error: {text_printable(e)}" for e in result.errors]
    return "\n".join(lines)


def report_exit(result: ScanResult, output: str, ruleset) -> tuple[str, int]:
    """What `scan_repo` prints for `result` in the `--format` named (json, sarif or table), and its
    exit code: 1 when anything was found, else 0."""
    if output == "json":
        text = report_json(result)
    elif output == "sarif":
        text = report_sarif(result, ruleset)
    else:
        text = report_table(result)
    return text, 1 if result.leaks else 0


def cli_report(*, repo, output: str, **kw) -> tuple[str, int]:
    """A `scan_repo` history scan (`repo_scan_unbounded` with `kw`) as the command ends it
    (`report_exit`). Run in the scanning process."""
    return report_exit(repo_scan_unbounded(repo=repo, **kw), output, kw["detector"].ruleset)
