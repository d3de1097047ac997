"""The probe registry: a probe kind = a read-only `collect` plus a list of pure checks.

A kind registers itself with `register(ProbeKind(...))`; the pipeline never needs to change when a
kind is added. Checks are small functions decorated with `@check(...)` that carry their metadata.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any


class ProbeError(Exception):
    """The probe could not do its job; the message names what and where. Not retried."""


class ProbeUnavailable(ProbeError):
    """A connection error or throttling: worth retrying with backoff."""


@dataclass
class Hit:
    """What a check yields: one problem on one subject."""

    subject: str
    bot_id: int | None = None
    evidence: dict = field(default_factory=dict)
    severity: str | None = None  # overrides the check's default (e.g. stale -> high past 2x)
    title: str | None = None  # overrides the check's title with a more specific one


@dataclass(frozen=True)
class Check:
    id: str
    severity: str
    category: str
    title: str
    remediation: str
    owasp: str
    run: Callable[[Any, Any], Iterable[Hit]]

    def __call__(self, observations, ctx) -> Iterator[Hit]:
        yield from self.run(observations, ctx)


class CatalogueError(ValueError):
    """A check's metadata is invalid; raised at import, naming the check and the field."""


OWASP_NHI = tuple(f"NHI{n}" for n in range(1, 11))  # OWASP Non-Human Identities Top 10 (2025)
_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){2,}$")


def check_validate(chk: Check, *, where: str = "") -> None:
    """Raise CatalogueError naming the check (and `where` it is defined) when a field is invalid."""
    from .models import Category, Severity  # enums live with the Finding model

    name = f"check {chk.id!r}" + (f" ({where})" if where else "")
    problems = []
    if not isinstance(chk.id, str) or not _ID.match(chk.id):
        problems.append("id must be lowercase dotted '<kind>.<subject>.<problem>'")
    if chk.severity not in Severity.values:
        problems.append(f"severity {chk.severity!r} not one of {', '.join(Severity.values)}")
    if chk.category not in Category.values:
        problems.append(f"category {chk.category!r} not one of {', '.join(Category.values)}")
    if chk.owasp not in OWASP_NHI:
        problems.append(f"owasp {chk.owasp!r} not one of NHI1..NHI10")
    for attr in ("title", "remediation"):
        if not isinstance(getattr(chk, attr), str) or not getattr(chk, attr).strip():
            problems.append(f"{attr} is empty")
    if problems:
        raise CatalogueError(f"{name}: " + "; ".join(problems))


def check(*, id: str, severity: str, category: str, title: str, remediation: str, owasp: str):  # noqa: A002
    """Decorator turning `fn(observations, ctx) -> Iterable[Hit]` into a Check with metadata.

    The metadata is validated here, so a bad check fails at import with its id and module."""

    def wrap(fn):
        chk = Check(
            id=id, severity=severity, category=category, title=title,
            remediation=remediation, owasp=owasp, run=fn,
        )
        check_validate(chk, where=f"{fn.__module__}.{fn.__qualname__}")
        return chk

    return wrap


@dataclass
class Collected:
    """What `collect()` returns. Non-empty `errors` makes the probe `partial`."""

    observations: Any
    api_calls: int = 0
    errors: list[str] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    facts: dict = field(default_factory=dict)
    # Dates learned about the secrets behind inventory credentials (never values):
    # {credential_id: {"created_at": dt, "last_rotated_at": dt, "last_used_at": dt}}
    credential_facts: dict = field(default_factory=dict)
    # Run by the pipeline only after the probe's findings, status and reconcile are committed (e.g.
    # the git probe saves its scan state here, so a crash before the commit rescans, never skips).
    after_commit: Callable[[], None] | None = None


@dataclass(frozen=True)
class Unit:
    """One unit of work of a connector: its own task, ProbeRun, scope and reconcile."""
    name: str                       # e.g. repository name, "123456789012/iam", "123456789012/eu-west-1"
    account: str = ""               # AWS account id where there is one
    params: dict = field(default_factory=dict)   # JSON-serialisable; what collect() needs
    phase: int = 0                  # units of phase 0 finish before any unit of phase 1 starts


@dataclass(frozen=True)
class ProbeKind:
    kind: str
    collect: Callable[..., Collected]  # collect(connector, ctx) -> Collected
    checks: Sequence[Check]
    needs_connector: bool = True
    # Kinds whose published facts this kind's checks read (ctx.facts_for(kind)); loaded before checks run.
    uses_facts: tuple[str, ...] = ()
    plan: Callable[..., list[Unit]] | None = None   # plan(connector, ctx) -> list[Unit]; None = one unit ""


_KINDS: dict[str, ProbeKind] = {}


def register(probe_kind: ProbeKind) -> ProbeKind:
    """Add a probe kind. Every check is validated; ids are unique across kinds and start with
    `<kind>.`; a bad catalogue raises CatalogueError naming the check and the kind."""
    kind = probe_kind.kind
    seen: set[str] = set()
    for chk in probe_kind.checks:
        if not isinstance(chk, Check):
            raise CatalogueError(f"probe kind {kind!r}: {chk!r} is not a @check")
        check_validate(chk)
        owner = check_kind(chk.id)
        if owner is not None and owner != kind:
            raise CatalogueError(f"check {chk.id!r}: already registered by probe kind {owner!r}")
        if not chk.id.startswith(f"{kind}."):
            raise CatalogueError(f"check {chk.id!r}: id must start with {kind + '.'!r}, the kind it is registered in")
        if chk.id in seen:
            raise CatalogueError(f"check {chk.id!r}: registered twice in probe kind {kind!r}")
        seen.add(chk.id)
    _KINDS[kind] = probe_kind
    return probe_kind


def unregister(kind: str) -> None:
    _KINDS.pop(kind, None)


def get(kind: str) -> ProbeKind:
    try:
        return _KINDS[kind]
    except KeyError:
        raise ProbeError(f"no probe registered for kind {kind!r}") from None


def kinds() -> dict[str, ProbeKind]:
    return dict(_KINDS)


def all_checks() -> list[Check]:
    return [c for k in _KINDS.values() for c in k.checks]


def check_kind(check_id: str) -> str | None:
    """The kind that registered `check_id`, or None."""
    for name, probe_kind in _KINDS.items():
        if any(c.id == check_id for c in probe_kind.checks):
            return name
    return None


def check_get(check_id: str) -> Check:
    """The registered check with this id; ProbeError naming it (and the known kinds) otherwise."""
    for chk in all_checks():
        if chk.id == check_id:
            return chk
    raise ProbeError(f"unknown check id {check_id!r} (registered kinds: {', '.join(sorted(_KINDS))})")
