"""The git probe: one unit per configured repository (plan); a unit scans its repository's new
history and reports every leak still on record (earlier runs' leaks are re-emitted, so reconcile
never resolves them by mistake). A repository that cannot be opened fails its own unit only.

Observations are one SecretLeak per secret seen in the repositories scanned here, with the
locations of that secret in every inventory repository (read from the probe's records, so a
finding is the same whichever unit of work emits it)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from django.conf import settings

from inventory.models import Repository

from ..registry import Collected, ProbeError, ProbeKind, Unit, register
from .checks import CHECKS
from .detector import Detector
from .mirror import RepositoryError, repository_open
from .rules import DEFAULT_RULES, RuleError, rules_load
from .scan import baseline_load, repo_scan
from .state import leaks_held_elsewhere, rules_digest, scan_state_load, scan_state_save, secret_leaks_load


def _repositories(connector) -> list[Repository]:
    wanted = (connector.options or {}).get("repositories", ["*"])
    if not isinstance(wanted, list):
        raise ProbeError(f"connector {connector.name}: options.repositories must be a list")
    if "*" in wanted:
        return list(Repository.objects.all())
    repos = list(Repository.objects.filter(name__in=wanted))
    missing = sorted(set(wanted) - {r.name for r in repos})
    if missing:
        raise ProbeError(f"connector {connector.name}: unknown repositories: {', '.join(missing)}")
    return repos


def plan(connector, ctx) -> list[Unit]:
    """One unit per repository the connector scans (named by the repository, identified by its id)."""
    return [Unit(name=r.name, params={"repository_id": r.pk}) for r in _repositories(connector)]


def _unit_repositories(connector, ctx) -> list[Repository]:
    unit = getattr(ctx, "unit", None)
    repository_id = (unit.params or {}).get("repository_id") if unit is not None else None
    if repository_id is None:
        return _repositories(connector)  # the whole connector (no plan: direct callers, tests)
    repository = Repository.objects.filter(pk=repository_id).first()
    if repository is None:
        raise ProbeError(f"repository {unit.name}: no longer in the inventory")
    return [repository]


def _resolve(path: str | None) -> str | None:
    if not path:
        return None
    p = Path(path)
    return str(p if p.is_absolute() else Path(settings.BASE_DIR) / p)


MAX_STORED_PATH = 900  # GitLeakRecord.file holds 1000; a finding's subject adds the repository and rule


def _stored(leak):
    """The leak with a path short enough to store: an absurdly long one keeps its head, its tail and
    a hash of the whole (so two long paths never collide)."""
    if len(leak.file) <= MAX_STORED_PATH:
        return leak
    digest = hashlib.sha256(leak.file.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return replace(leak, file=f"{leak.file[:500]}\u2026{digest}\u2026{leak.file[-300:]}")


def collect(connector, ctx) -> Collected:
    options = connector.options or {}
    rules_path = _resolve(options.get("rules"))
    try:
        detector = Detector(rules_load(path=rules_path))
        baseline = baseline_load(_resolve(options["baseline"])) if options.get("baseline") else set()
    except (RuleError, OSError, ValueError) as exc:
        raise ProbeError(f"connector {connector.name}: {exc}") from None
    digest = rules_digest([DEFAULT_RULES, rules_path])
    scanned, errors, saves = [], [], []
    counts = {"repositories": 0, "commits": 0, "blobs": 0, "bytes": 0, "leaks": 0}
    repositories = _unit_repositories(connector, ctx)
    for repository in repositories:
        try:
            repo = repository_open(
                location=repository.url, base_dir=settings.BASE_DIR,
                cache_dir=Path(settings.BOTAUDIT_GIT_CACHE_DIR), roots=settings.BOTAUDIT_GIT_ROOTS,
            )
        except RepositoryError as exc:
            if len(repositories) == 1 and getattr(ctx, "unit", None) and ctx.unit.name:
                raise ProbeError(f"repository {repository.name}: {exc}") from None  # this unit fails
            errors.append(f"repository {repository.name}: {exc}")
            continue
        state, hide, known = scan_state_load(connector_id=connector.pk, repository=repository, digest=digest)
        try:
            result = repo_scan(repo=repo, detector=detector, branches=repository.branches or ["*"],
                               hide=hide, known=known, baseline=baseline,
                               workers=settings.BOTAUDIT_GIT_WORKERS)
        except ValueError as exc:
            errors.append(f"repository {repository.name}: {exc}")
            continue
        result.leaks = [_stored(leak) for leak in result.leaks]
        saves.append((state, result))  # saved once the findings are committed (after_commit)
        errors += [f"repository {repository.name}: {e}" for e in result.errors]
        scanned.append((state, repository, result.leaks))
        counts["repositories"] += 1
        counts["leaks"] += len(result.leaks)
        for k in ("commits", "blobs", "bytes"):
            counts[k] += getattr(result.stats, k)
    observations = secret_leaks_load(scanned=scanned, baseline=baseline, now=ctx.now)
    counts["secrets"] = len(observations)
    return Collected(observations=observations, api_calls=counts["repositories"], errors=errors, counts=counts,
                     after_commit=lambda: [scan_state_save(state=st, result=r, digest=digest) for st, r in saves])


register(ProbeKind(kind="git", collect=collect, checks=CHECKS, uses_facts=("aws",), plan=plan,
                   reconcile_hold=leaks_held_elsewhere))
