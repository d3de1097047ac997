"""Re-key inventory, AWS and Vault findings whose subjects held names people change.

Before: bot names (`bot:<name>`, `credential:<bot>/<credential>`, `...@<bot>`, `reads:<bot>:<other>`)
and the Vault connector's name (`vault:<connector name>:...`) were part of subjects, so a rename gave
findings new fingerprints and dropped their triage. After: database ids (`bot:<id>`,
`credential:<id>`, `...@bot:<id>`, `reads:bot:<id>:bot:<id>`) and `vault:connector-<id>:...` (the
formats of scanners/subjects.py, copied here so this migration never changes). Git findings are
left to their own migration. Findings that collapse into one keep the most significant triage
(false positive, then acknowledged, then open, then resolved), the earliest first_seen and the
latest last_seen, with one `finding.merge` audit-log entry naming the merged ids and statuses.
A finding whose bot or credential no longer exists is left as it was (reconcile resolves it)."""

import hashlib
import re

from django.db import migrations

STATUS_RANK = {"false_positive": 3, "acknowledged": 2, "open": 1, "resolved": 0}
CREDENTIAL_CHECKS = {"inventory.credential.outside_secrets_manager", "inventory.credential.no_rotation_policy"}
SUFFIXED_CHECKS = {"inventory.credential.shared_across_environments", "aws.inventory.missing"}
VAULT_REST = re.compile(r"^vault:.*?:((?:audit|token|policy|reads|approle|kv|missing)(?::.*)?)$", re.S)


def _fingerprint(check_id, subject):
    return hashlib.sha256(f"{check_id}\x1f{subject}".encode()).hexdigest()


def _with_bot(subject, bot_id):
    """`<what>@<bot name>` -> `<what>@bot:<id>`."""
    if not bot_id or "@" not in subject:
        return None
    return f"{subject.rsplit('@', 1)[0]}@bot:{bot_id}"


def _vault_rest(f, connectors):
    connector = connectors.get(f.scope)
    if connector is not None and f.subject.startswith(f"vault:{connector.name}:"):
        return f.subject[len(f"vault:{connector.name}:"):]
    m = VAULT_REST.match(f.subject)
    return m.group(1) if m else None


def _vault_subject(f, connectors, bot_ids):
    if not f.scope.startswith("connector:") or f.subject.startswith("vault:connector-"):
        return None
    rest = _vault_rest(f, connectors)
    if rest is None:
        return None
    if rest.startswith(("policy:", "missing:")):
        rest = _with_bot(rest, f.bot_id)
    elif rest.startswith("reads:"):
        other = bot_ids.get((f.evidence or {}).get("other_bot"))
        rest = f"reads:bot:{f.bot_id}:bot:{other}" if f.bot_id and other else None
    if rest is None:
        return None
    return f"vault:connector-{f.scope.split(':', 1)[1]}:{rest}"


def _new_subject(f, *, connectors, bot_ids, credential_ids):
    if f.check_id in CREDENTIAL_CHECKS and f.subject.startswith("credential:") and "/" in f.subject:
        pk = credential_ids.get((f.bot_id, (f.evidence or {}).get("credential")))
        return f"credential:{pk}" if pk else None
    if f.check_id in SUFFIXED_CHECKS and not f.subject.startswith("arn:"):
        return _with_bot(f.subject, f.bot_id)
    if f.check_id == "inventory.bot.no_owner":
        return f"bot:{f.bot_id}" if f.bot_id else None
    if f.check_id.startswith("vault."):
        return _vault_subject(f, connectors, bot_ids)
    return None


def _survivor(group):
    return max(group, key=lambda f: (STATUS_RANK.get(f.status, 0), -f.first_seen.timestamp(), -f.pk))


def _merge(group, AuditLogEntry, Finding):
    keep = _survivor(group)
    merged = [f for f in group if f.pk != keep.pk]
    latest = max(group, key=lambda f: f.last_seen)
    keep.first_seen = min(f.first_seen for f in group)
    keep.last_seen, keep.last_probe_run_id = latest.last_seen, latest.last_probe_run_id
    keep.evidence, keep.title, keep.severity = latest.evidence, latest.title, latest.severity
    if merged:
        AuditLogEntry.objects.create(action="finding.merge", target=str(keep.pk), detail={
            "into": keep.pk, "reason": "stable subjects (migration scanners 0006)",
            "kept": {"status": keep.status, "status_reason": keep.status_reason},
            "merged": [{"id": f.pk, "subject": f.subject, "status": f.status, "status_reason": f.status_reason,
                        "status_changed_at": f.status_changed_at.isoformat() if f.status_changed_at else None,
                        "status_changed_by": f.status_changed_by_id, "first_seen": f.first_seen.isoformat()}
                       for f in merged],
        })
        Finding.objects.filter(pk__in=[f.pk for f in merged]).delete()
    return keep


def findings_rekey(apps, schema_editor):
    Finding = apps.get_model("scanners", "Finding")
    Bot = apps.get_model("inventory", "Bot")
    Credential = apps.get_model("inventory", "Credential")
    Connector = apps.get_model("inventory", "Connector")
    AuditLogEntry = apps.get_model("inventory", "AuditLogEntry")
    lookups = {
        "connectors": {f"connector:{c.pk}": c for c in Connector.objects.all()},
        "bot_ids": dict(Bot.objects.values_list("name", "pk")),
        "credential_ids": {(b, n): pk for b, n, pk in Credential.objects.values_list("bot_id", "name", "pk")},
    }
    rekeyed = {}
    for f in Finding.objects.exclude(check_id__startswith="git.").order_by("pk"):
        subject = _new_subject(f, **lookups)
        if subject is not None and subject != f.subject:
            rekeyed[f.pk] = (subject, _fingerprint(f.check_id, subject))
    groups = {}
    for f in Finding.objects.filter(pk__in=list(rekeyed)).order_by("pk"):
        groups.setdefault(rekeyed[f.pk], []).append(f)
    already = Finding.objects.filter(fingerprint__in=[fp for _, fp in groups])  # e.g. seen after a rename
    for f in already:
        groups.setdefault((f.subject, f.fingerprint), []).append(f)
    for (subject, fingerprint), group in groups.items():
        keep = _merge(group, AuditLogEntry, Finding)
        keep.subject, keep.fingerprint = subject, fingerprint
        keep.save()


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0001_initial'),
        ('scanners', '0005_explicit_task_names'),
    ]

    operations = [
        migrations.RunPython(findings_rekey, migrations.RunPython.noop),
    ]
