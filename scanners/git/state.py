"""Load and save what was scanned per repository (tips + leaks), for incremental runs, and read
every repository's recorded locations of given secrets (one leak per secret)."""

from __future__ import annotations

import hashlib

from django.db import transaction

from .leaks import LeakLocation, SecretLeak, secret_leaks_group
from .models import GitLeakRecord, GitScanState
from .scan import ScanResult, leak_fingerprint
from .walker import Leak

CHUNK = 2000


def rules_digest(paths) -> str:
    h = hashlib.sha256()
    for p in paths:
        if p:
            with open(p, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()


def scan_state_load(*, connector_id: int, repository, digest: str) -> tuple[GitScanState, list[str], list[Leak]]:
    """(state, commit ids to hide, known leaks) of one repository as scanned by one connector, keyed
    by ids (a rename keeps it). Changed rules start over from scratch."""
    state, _ = GitScanState.objects.get_or_create(key=f"{connector_id}:{repository.pk}",
                                                  defaults={"repository": repository})
    if state.rules_digest != digest:
        return state, [], []
    known = [
        Leak(r.rule_id, r.file, r.line, r.commit, r.commit_date, r.redacted, r.secret_fingerprint, r.still_at_head,
             confidence=r.confidence, reasons=tuple(r.reasons))
        for r in state.leaks.all()
    ]
    return state, list(state.tips.values()), known


def _record(state: GitScanState, leak: Leak, fp: str) -> GitLeakRecord:
    return GitLeakRecord(
        state=state, fingerprint=fp, rule_id=leak.rule_id, file=leak.file, line=leak.line,
        commit=leak.commit, commit_date=leak.commit_date, redacted=leak.redacted,
        secret_fingerprint=leak.secret_fingerprint, still_at_head=leak.still_at_head,
        confidence=leak.confidence, reasons=list(leak.reasons),
    )


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
            new.append(_record(state, leak, fp))
        elif (rec.still_at_head, rec.confidence, rec.reasons) != (leak.still_at_head, leak.confidence,
                                                                 list(leak.reasons)):
            rec.still_at_head, rec.confidence, rec.reasons = leak.still_at_head, leak.confidence, list(leak.reasons)
            changed.append(rec)
    GitLeakRecord.objects.bulk_create(new)
    GitLeakRecord.objects.bulk_update(changed, ["still_at_head", "confidence", "reasons"])
    if not result.errors:
        state.tips = result.tips
        state.rules_digest = digest
        state.commits_scanned += result.stats.commits
        state.save()


def _location(rec: GitLeakRecord) -> LeakLocation:
    return LeakLocation(
        repository_id=rec.state.repository_id, repository=rec.state.repository.name, rule_id=rec.rule_id,
        file=rec.file, line=rec.line, commit=rec.commit, commit_date=rec.commit_date,
        first_seen=rec.first_seen.isoformat(), still_at_head=rec.still_at_head, confidence=rec.confidence,
        reasons=tuple(rec.reasons), redacted=rec.redacted,
    )


def _fresh_location(repository, leak: Leak, first_seen) -> LeakLocation:
    return LeakLocation(
        repository_id=repository.pk, repository=repository.name, rule_id=leak.rule_id, file=leak.file,
        line=leak.line, commit=leak.commit, commit_date=leak.commit_date, first_seen=first_seen.isoformat(),
        still_at_head=leak.still_at_head, confidence=leak.confidence, reasons=tuple(leak.reasons),
        redacted=leak.redacted,
    )


def secret_leaks_load(*, scanned, baseline=frozenset(), now) -> list[SecretLeak]:
    """One SecretLeak per secret seen in the repositories just scanned (`scanned`: (state,
    repository, leaks) — this run's complete leaks, not yet saved: the state is saved only after the
    findings commit), with its locations there and, from the records, in every other inventory
    repository (whichever connector or run scanned it), minus baselined ones."""
    state_ids = [state.pk for state, _, _ in scanned]
    first_seen = {(s, fp): at for s, fp, at in
                  GitLeakRecord.objects.filter(state_id__in=state_ids).values_list("state_id", "fingerprint",
                                                                                   "first_seen")}
    found, wanted = [], set()
    for state, repository, leaks in scanned:
        for leak in leaks:
            fp = leak_fingerprint(leak)
            wanted.add(leak.secret_fingerprint)
            found.append((leak.secret_fingerprint,
                          _fresh_location(repository, leak, first_seen.get((state.pk, fp), now))))
    wanted = sorted(wanted)
    for start in range(0, len(wanted), CHUNK):
        records = (GitLeakRecord.objects.filter(secret_fingerprint__in=wanted[start:start + CHUNK])
                   .exclude(state_id__in=state_ids).exclude(state__repository=None)
                   .select_related("state__repository"))
        found += [(r.secret_fingerprint, _location(r)) for r in records if r.fingerprint not in baseline]
    return secret_leaks_group(found)


def leaks_held_elsewhere(*, findings) -> dict[int, str]:
    """{finding pk: scope} for leak findings a unit did not see again that another repository's unit
    will still emit: its secret is recorded there (by this or another connector), and — for
    `git.secret.leaked`, one finding per owning bot — the finding's bot owns a repository that records
    it (or, botless, none does). That unit's scope (`connector:<id>:<repository name>`) takes the
    finding over, so it is resolved only once no repository holds it any more. A unit that fails
    keeps its records, so it keeps its findings. A finding no unit would emit again (its bot owns
    none of the repositories any more) is not held."""
    from inventory.models import Bot

    by_secret: dict[str, list] = {}
    for finding in findings:
        fp = (finding.evidence or {}).get("secret_fingerprint")
        if fp:
            by_secret.setdefault(fp, []).append(finding)
    held: dict[int, str] = {}
    wanted = sorted(by_secret)
    for start in range(0, len(wanted), CHUNK):
        rows = list(GitLeakRecord.objects.filter(secret_fingerprint__in=wanted[start:start + CHUNK])
                    .exclude(state__repository=None)
                    .values_list("secret_fingerprint", "state__key", "state__repository_id", "state__repository__name")
                    .distinct())
        owners_of = {}
        for repo_id, bot_id in Bot.repositories.through.objects.filter(
                repository_id__in={r[2] for r in rows}).values_list("repository_id", "bot_id"):
            owners_of.setdefault(repo_id, set()).add(bot_id)
        scopes: dict[str, set[str]] = {}
        owners: dict[str, set] = {}
        for fp, key, repo_id, name in rows:
            scopes.setdefault(fp, set()).add(f"connector:{key.split(':', 1)[0]}:{name}")
            owners.setdefault(fp, set()).update(owners_of.get(repo_id, ()))
        for fp, where in scopes.items():
            expected = owners[fp] or {None}
            for finding in by_secret[fp]:
                others = sorted(where - {finding.scope})
                if finding.check_id == "git.secret.leaked" and finding.bot_id not in expected:
                    continue  # no unit emits this (secret, bot) any more
                if others:
                    held[finding.pk] = others[0]
    return held
