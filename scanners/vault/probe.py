"""The Vault / OpenBao probe: one connector = one cluster. Read-only, metadata only."""

from ..registry import ProbeKind, register
from . import checks_access, checks_kv

CHECKS = [*checks_access.CHECKS, *checks_kv.CHECKS]


def collect(connector, ctx):
    """hvac (and requests, urllib3) load on the first collect, not with every Django start-up."""
    from .collect import collect as vault_collect

    return vault_collect(connector, ctx)


register(ProbeKind(kind="vault", collect=collect, checks=CHECKS))
