"""The Vault / OpenBao probe: one connector = one cluster, one unit unless a KV mount is large
(then `kv:<mount>` units and a `cluster` unit: vault/units.py). Read-only, metadata only."""

from ..registry import ProbeKind, register
from . import checks_access, checks_kv

CHECKS = [*checks_access.CHECKS, *checks_kv.CHECKS]


def collect(connector, ctx):
    """hvac (and requests, urllib3) load on the first collect, not with every Django start-up."""
    from .collect import collect as vault_collect

    return vault_collect(connector, ctx)


def plan(connector, ctx):
    from .units import plan as vault_plan

    return vault_plan(connector, ctx)


register(ProbeKind(kind="vault", collect=collect, checks=CHECKS, plan=plan))
