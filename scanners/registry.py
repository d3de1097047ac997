"""The probe registry: a probe kind = a read-only `collect` plus a list of pure checks.

A kind registers itself with `register(ProbeKind(...))`; the pipeline never needs to change when a
kind is added. Checks are small functions decorated with `@check(...)` that carry their metadata.
"""

from __future__ import annotations

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


def check(*, id: str, severity: str, category: str, title: str, remediation: str, owasp: str):  # noqa: A002
    """Decorator turning `fn(observations, ctx) -> Iterable[Hit]` into a Check with metadata."""

    def wrap(fn):
        return Check(
            id=id, severity=severity, category=category, title=title,
            remediation=remediation, owasp=owasp, run=fn,
        )

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
class ProbeKind:
    kind: str
    collect: Callable[..., Collected]  # collect(connector, ctx) -> Collected
    checks: Sequence[Check]
    needs_connector: bool = True
    # Kinds whose published facts this kind's checks read (ctx.facts_for(kind)); loaded before checks run.
    uses_facts: tuple[str, ...] = ()


_KINDS: dict[str, ProbeKind] = {}


def register(probe_kind: ProbeKind) -> ProbeKind:
    ids = [c.id for c in probe_kind.checks]
    if len(ids) != len(set(ids)):
        raise ValueError(f"probe kind {probe_kind.kind!r} has duplicate check ids")
    _KINDS[probe_kind.kind] = probe_kind
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
