"""What the pages cache: results that change only when the data does (an audit run, a probe run, a
triage, an inventory edit). Every cached value is keyed by the data *generation* — a counter that
every such write bumps (signals below) — and by the viewer's *scope* (auditors: everything; a viewer:
their teams), so a write makes every older entry unreachable at once and a viewer never gets an
auditor's or another team's numbers. Entries also expire after `BOTAUDIT_PAGE_CACHE_SECONDS`."""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from inventory.selectors import user_is_auditor

log = logging.getLogger(__name__)

GENERATION_KEY = "botaudit:generation"
SCOPE_ALL = "all"  # auditors (and admins): every team


def generation() -> int:
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        value = cache.get(GENERATION_KEY, 1)
    return value


def generation_advance() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not set yet (or evicted): any new value makes older entries unreachable
        cache.set(GENERATION_KEY, 2, timeout=None)


def _generation_advance_quietly() -> None:
    """A cache that is down (Redis restarting) must not fail the write that bumps it: the write is
    what matters, and the entries expire after BOTAUDIT_PAGE_CACHE_SECONDS anyway."""
    try:
        generation_advance()
    except Exception as exc:
        log.warning("page cache: cannot advance the generation (%s: %s)", type(exc).__name__, exc)


def generation_bump() -> None:
    """Make every cached page value stale: now (for reads inside this transaction) and again after
    commit (a read that raced the write must not keep pre-commit data under the new generation)."""
    _generation_advance_quietly()
    transaction.on_commit(_generation_advance_quietly)


def scope_key(user) -> str:
    """Who sees the same data: every auditor alike; a viewer by the set of their teams."""
    key = getattr(user, "_botaudit_scope", None)  # once per request (the user object is per request)
    if key is None:
        if user_is_auditor(user):
            key = SCOPE_ALL
        else:
            team_ids = sorted(user.teams.values_list("pk", flat=True)) if user.is_authenticated else []
            key = "teams:" + ",".join(map(str, team_ids))
        user._botaudit_scope = key
    return key


def page_cache_key(*parts) -> str:
    digest = hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()[:32]
    return f"botaudit:page:{digest}"


def cached(*, name: str, user, params: str = "", compute):
    """`compute()`'s value for this scope, generation and parameters; computed once per generation.
    The generation is read before computing, so a value computed while a write lands is stored
    under the old generation, where nobody looks any more. Keyed by the day too: pages show ages,
    SLA days left and overdue counts that change as days pass, with no write to bump the generation."""
    if not settings.BOTAUDIT_PAGE_CACHE_SECONDS:
        return compute()
    key = page_cache_key(name, scope_key(user), generation(), f"{timezone.localdate().isoformat()}|{params}")
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=settings.BOTAUDIT_PAGE_CACHE_SECONDS)
    return value


def signals_connect() -> None:
    """Bump the generation on every write the pages show. Bulk writes of findings and scores are
    always followed by a probe-run or audit-run save, which bumps it."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from inventory.models import AuditLogEntry, Bot, Connector, Credential, Identity, Repository, Team
    from scanners.models import AuditRun, BotScore, Finding, ProbeRun

    def bump(sender, **kwargs):
        generation_bump()

    for model in (Team, Bot, Credential, Identity, Repository, Connector, AuditLogEntry,
                  AuditRun, ProbeRun, Finding, BotScore):
        post_save.connect(bump, sender=model, weak=False, dispatch_uid=f"botaudit-generation-save-{model.__name__}")
        post_delete.connect(bump, sender=model, weak=False, dispatch_uid=f"botaudit-generation-delete-{model.__name__}")
    m2m_changed.connect(bump, sender=Team.members.through, weak=False, dispatch_uid="botaudit-generation-members")
