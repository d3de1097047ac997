"""Load and save what was scanned per repository (tips + leaks), for incremental runs."""

from __future__ import annotations

import hashlib

from django.db import transaction

from .models import GitLeakRecord, GitScanState
from .scan import ScanResult, leak_fingerprint
from .walker import Leak


def rules_digest(paths) -> str:
    h = hashlib.sha256()
    for p in paths:
        if p:
            with open(p, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()


def scan_state_load(*, key: str, digest: str) -> tuple[GitScanState, list[str], list[Leak]]:
    """(state, commit ids to hide, known leaks). Changed rules start over from scratch."""
    state, _ = GitScanState.objects.get_or_create(key=key)
    if state.rules_digest != digest:
        return state, [], []
    known = [
        Leak(r.rule_id, r.file, r.line, r.commit, r.commit_date, r.redacted, r.secret_fingerprint, r.still_at_head)
        for r in state.leaks.all()
    ]
    return state, list(state.tips.values()), known


@transaction.atomic
def scan_state_save(*, state: GitScanState, result: ScanResult, digest: str) -> None:
    """Record the leaks (upsert by fingerprint). Tips advance only after an error-free scan, so a
    partial scan is retried from where the last complete one ended."""
    fresh = state.rules_digest != digest
    if fresh:
        state.leaks.all().delete()
    records = {r.fingerprint: r for r in state.leaks.all()}
    new, changed = [], []
    for leak in result.leaks:
        fp = leak_fingerprint(leak)
        rec = records.get(fp)
        if rec is None:
            new.append(GitLeakRecord(
                state=state, fingerprint=fp, rule_id=leak.rule_id, file=leak.file, line=leak.line,
                commit=leak.commit, commit_date=leak.commit_date, redacted=leak.redacted,
                secret_fingerprint=leak.secret_fingerprint, still_at_head=leak.still_at_head,
            ))
        elif rec.still_at_head != leak.still_at_head:
            rec.still_at_head = leak.still_at_head
            changed.append(rec)
    GitLeakRecord.objects.bulk_create(new)
    GitLeakRecord.objects.bulk_update(changed, ["still_at_head"])
    if not result.errors:
        state.tips = result.tips
        state.rules_digest = digest
        state.commits_scanned += result.stats.commits
        state.save()
