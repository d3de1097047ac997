"""Findings in other tools' formats: DefectDojo's Generic Findings Import JSON, and SARIF 2.1.0 for the
fleet's leak findings. Built from stored findings only (evidence holds redacted previews and
fingerprints, never a value)."""

from __future__ import annotations

from collections.abc import Iterable

from scanners.git.report import SARIF_SCHEMA
from scanners.models import Category, Finding

DOJO_SEVERITY = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low", "info": "Info"}
SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


def leak_locations(finding: Finding) -> list[dict]:
    """Where a leak finding's secret was seen: its evidence's `locations` (the git probe's shape since
    migration 0005 re-keyed the per-file findings)."""
    locations = (finding.evidence or {}).get("locations")
    return [loc for loc in locations if isinstance(loc, dict)] if isinstance(locations, list) else []


def _description(f: Finding) -> str:
    bot = f"{f.bot.name} (team {f.bot.team.name})" if f.bot else "no bot"
    lines = [f.title, "", f"Check: {f.check_id} · category {f.category} · OWASP NHI {f.owasp_nhi or '-'}",
             f"Bot: {bot}", f"Subject: {f.subject}", f"Status in BotAudit: {f.status}"]
    if f.status_reason:
        lines.append(f"Triage reason: {f.status_reason}")
    for loc in leak_locations(f)[:20]:
        lines.append(f"Seen at {loc.get('repository', '?')}/{loc.get('file', '?')}:{loc.get('line', '?')} "
                     f"in commit {str(loc.get('commit', ''))[:12]} ({loc.get('redacted', '')})")
    return "\n".join(lines)


def defectdojo_finding(f: Finding) -> dict:
    """One finding as DefectDojo's generic JSON parser reads it (dojo/tools/generic/json_parser.py)."""
    item = {
        "title": f.title[:500],
        "severity": DOJO_SEVERITY.get(f.severity, "Info"),
        "description": _description(f),
        "mitigation": f.remediation,
        "date": f.first_seen.date().isoformat(),
        "unique_id_from_tool": f.fingerprint,
        "vuln_id_from_tool": f.check_id,
        "active": f.status in (Finding.Status.OPEN, Finding.Status.ACKNOWLEDGED),
        "verified": f.status == Finding.Status.ACKNOWLEDGED,
        "false_p": f.status == Finding.Status.FALSE_POSITIVE,
        "is_mitigated": f.status == Finding.Status.RESOLVED,
        "static_finding": f.category == Category.LEAK,
        "dynamic_finding": f.category != Category.LEAK,
        "service": f.bot.name if f.bot else "",
        "tags": [t for t in ("botaudit", f.category, f.owasp_nhi.lower() if f.owasp_nhi else "") if t],
    }
    if f.status == Finding.Status.RESOLVED and f.resolved_at:
        item["mitigated"] = f.resolved_at.isoformat()
    locations = leak_locations(f)
    if locations:
        item["file_path"] = f"{locations[0].get('repository', '')}/{locations[0].get('file', '')}".lstrip("/")
        if isinstance(locations[0].get("line"), int):
            item["line"] = locations[0]["line"]
        item["nb_occurences"] = len(locations)
    return item


def defectdojo_document(findings: Iterable[Finding]) -> dict:
    return {"name": "BotAudit", "type": "BotAudit", "findings": [defectdojo_finding(f) for f in findings]}


def sarif_document(findings: Iterable[Finding]) -> dict:
    """SARIF 2.1.0 for the fleet's leak findings: one result per location of each leak finding."""
    results, rules = [], {}
    for f in findings:
        if f.category != Category.LEAK:
            continue
        rules.setdefault(f.check_id, {"id": f.check_id, "name": f.check_id,
                                      "shortDescription": {"text": f.title.split(" secret in ")[0][:200]},
                                      "help": {"text": f.remediation or f.check_id}})
        for loc in leak_locations(f):
            results.append({
                "ruleId": f.check_id,
                "level": SARIF_LEVEL.get(f.severity, "warning"),
                "message": {"text": f"{loc.get('rule_id', f.check_id)} secret {loc.get('redacted', '')} in "
                                    f"{loc.get('repository', '?')} (finding {f.fingerprint[:12]}, {f.status})"},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": str(loc.get("file", "")), "uriBaseId": str(loc.get("repository", ""))},
                    "region": {"startLine": max(int(loc.get("line") or 1), 1)},
                }}],
                "partialFingerprints": {"botaudit/finding": f.fingerprint},
                "properties": {"bot": f.bot.name if f.bot else None, "status": f.status, "severity": f.severity,
                               "commit": loc.get("commit"), "stillAtHead": loc.get("still_at_head"),
                               "redacted": loc.get("redacted"), "confidence": loc.get("confidence")},
            })
    ids = sorted(rules)
    for result in results:
        result["ruleIndex"] = ids.index(result["ruleId"])
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "BotAudit", "informationUri": "https://github.com/botaudit/botaudit",
                            "rules": [rules[i] for i in ids]}},
        "results": results,
    }]}
