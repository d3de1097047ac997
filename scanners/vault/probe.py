"""The Vault / OpenBao probe: one connector = one cluster. Read-only, metadata only."""

from ..registry import ProbeKind, register
from . import checks_access, checks_kv
from .collect import collect

CHECKS = [*checks_access.CHECKS, *checks_kv.CHECKS]

register(ProbeKind(kind="vault", collect=collect, checks=CHECKS))
