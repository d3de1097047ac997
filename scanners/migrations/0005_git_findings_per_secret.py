"""Re-key git leak findings to one finding per secret (and per owning bot), by stable identifiers.

Before: `git.secret.leaked` had one finding per (repository, rule, file, secret) and bot, with the
repository and bot *names* in the subject; `git.secret.leaked_active_aws_key` one per (repository,
file, secret). After: subjects `git:secret:<fingerprint prefix>[@bot:<bot id>]` and
`git-aws:<fingerprint prefix>:<IAM user ARN>` (the formats of scanners/git/checks.py, copied here so
this migration never changes). Findings that collapse into one keep the most significant triage
(false positive, then acknowledged, then open, then resolved), the earliest first_seen and the
latest last_seen; the audit log is left as it was, plus one `finding.merge` entry per collapse
naming the merged ids and their statuses. Nothing is lost that a person recorded."""

import hashlib

from django.db import migrations

LEAKED, ACTIVE_AWS = "git.secret.leaked", "git.secret.leaked_active_aws_key"
STATUS_RANK = {"false_positive": 3, "acknowledged": 2, "open": 1, "resolved": 0}
SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}


def _fingerprint(check_id, subject):
    return hashlib.sha256(f"{check_id}\x1f{subject}".encode()).hexdigest()


def _subject(finding):
    ev = finding.evidence if isinstance(finding.evidence, dict) else {}
    fp = ev.get("secret_fingerprint")
    if not isinstance(fp, str) or not fp:
        return None  # not a git leak finding this migration understands: left as it is
    if finding.check_id == LEAKED:
        base = f"git:secret:{fp[:24]}"
        return f"{base}@bot:{finding.bot_id}" if finding.bot_id else base
    return f"git-aws:{fp[:24]}:{ev.get('iam_user', '')}"


def _location(finding, repo_ids):
    ev = finding.evidence
    if "locations" in ev:  # already one-per-secret
        return ev["locations"]
    return [{
        "repository_id": repo_ids.get(ev.get("repository")), "repository": ev.get("repository", ""),
        "file": ev.get("file", ""), "line": ev.get("line", 0), "commit": ev.get("commit", ""),
        "commit_date": ev.get("commit_date", ""), "first_seen": finding.first_seen.isoformat(),
        "still_at_head": bool(ev.get("still_at_head")), "rule_id": ev.get("rule_id", ""),
        "confidence": "high", "reasons": [],
    }]


def _evidence(group, repo_ids, survivor):
    locations, seen = [], set()
    for f in group:
        for loc in _location(f, repo_ids):
            key = (loc.get("repository"), loc.get("rule_id"), loc.get("file"))
            if key not in seen:
                seen.add(key)
                locations.append(loc)
    locations.sort(key=lambda x: (not x["still_at_head"], x["commit_date"], x["repository"], x["file"]))
    ev = survivor.evidence
    out = {
        "secret_fingerprint": ev["secret_fingerprint"], "redacted": ev.get("redacted", ""),
        "rule_ids": sorted({loc["rule_id"] for loc in locations}), "confidence": "high", "reasons": [],
        "still_at_head": any(loc["still_at_head"] for loc in locations),
        "first_commit_date": min(loc["commit_date"] for loc in locations),
        "repositories": sorted({loc["repository"] for loc in locations}),
        "repository_ids": sorted({loc["repository_id"] for loc in locations if loc["repository_id"]}),
        "location_count": len(locations), "locations": locations[:200],
    }
    for key in ("iam_user", "access_key"):
        if key in ev:
            out[key] = ev[key]
    return out


def _survivor(group):
    return max(group, key=lambda f: (STATUS_RANK.get(f.status, 0), -f.first_seen.timestamp(), -f.pk))


def findings_rekey(apps, schema_editor):
    Finding = apps.get_model("scanners", "Finding")
    Repository = apps.get_model("inventory", "Repository")
    AuditLogEntry = apps.get_model("inventory", "AuditLogEntry")
    repo_ids = dict(Repository.objects.values_list("name", "pk"))
    groups = {}
    for f in Finding.objects.filter(check_id__in=[LEAKED, ACTIVE_AWS]).order_by("pk"):
        subject = _subject(f)
        if subject is not None:
            groups.setdefault((f.check_id, subject), []).append(f)
    for (check_id, subject), group in groups.items():
        keep = _survivor(group)
        merged = [f for f in group if f.pk != keep.pk]
        keep.evidence = _evidence(group, repo_ids, keep)
        keep.first_seen = min(f.first_seen for f in group)
        latest = max(group, key=lambda f: f.last_seen)
        keep.last_seen, keep.last_probe_run_id = latest.last_seen, latest.last_probe_run_id
        keep.severity = max((f.severity for f in group), key=lambda s: SEVERITY_RANK.get(s, 0))
        keep.subject, keep.fingerprint = subject, _fingerprint(check_id, subject)
        if merged:
            AuditLogEntry.objects.create(action="finding.merge", target=str(keep.pk), detail={
                "into": keep.pk, "reason": "one finding per secret (migration scanners 0005)",
                "kept": {"status": keep.status, "status_reason": keep.status_reason},
                "merged": [{"id": f.pk, "subject": f.subject, "status": f.status, "status_reason": f.status_reason,
                            "status_changed_at": f.status_changed_at.isoformat() if f.status_changed_at else None,
                            "status_changed_by": f.status_changed_by_id, "first_seen": f.first_seen.isoformat()}
                           for f in merged],
            })
            Finding.objects.filter(pk__in=[f.pk for f in merged]).delete()
        keep.save()


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0001_initial'),
        ('scanners', '0004_git_leak_confidence'),
    ]

    operations = [
        migrations.RunPython(findings_rekey, migrations.RunPython.noop),
    ]
