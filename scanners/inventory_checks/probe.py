"""The inventory probe: always runs, needs no connector, reads only the database."""

from scanners.inventory_checks.checks import CHECKS
from scanners.registry import Collected, ProbeKind, register


def collect(_connector, ctx) -> Collected:
    fleet = ctx.fleet
    return Collected(
        observations=None,
        counts={"bots": len(fleet.bots), "credentials": len(fleet.credentials), "identities": len(fleet.identities)},
    )


register(ProbeKind(kind="inventory", collect=collect, checks=CHECKS, needs_connector=False))
