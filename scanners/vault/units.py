"""Vault units (issue 13). A cluster whose KV mounts are all small is one unit, the whole connector
(unit "", as before units). A KV mount with at least BOTAUDIT_VAULT_KV_FANOUT_KEYS top-level keys
gets its own unit:

- `kv:<mount>` (phase 0) walks that mount's metadata and runs the checks on it alone: the KV checks
  (not rotated, unowned, declared but missing) of that mount land in its scope. It publishes, in its
  facts, the secrets of the mount that belong to a bot (what the access checks need), never a value.
- `cluster` (phase 1) reads everything else and the small mounts, and runs every check; the access
  checks (a bot reading another bot's secrets) see its own KV plus what the kv units published.
  A kv unit that is not `ok` makes it partial: it resolves nothing (its view of who can read which
  secret is incomplete), while the kv units that succeeded reconcile their own mount.

Planning asks Vault for its mounts and one LIST per configured KV mount. When that fails (sealed,
unreachable, a token that is rejected, a 403) the cluster stays one unit, whose run reports the
error exactly as an audit without units did.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from hvac import exceptions as hvac_exc

from ..models import ProbeRun
from ..registry import ProbeError, Unit
from .attribution import OWNER_KEYS, attribution_for
from .client import response_data, vault_connect, vault_errors, vault_logout
from .observations import KvSecret, VaultObservations

log = logging.getLogger(__name__)

KV_UNIT = "kv:"
CLUSTER_UNIT = "cluster"


def kv_unit_name(mount: str) -> str:
    return f"{KV_UNIT}{mount}"


def _top_level_keys(conn, mount: str, *, v1: bool) -> int | None:
    """How many keys (secrets and folders) the mount lists at its top; None when the probe may not list it."""
    kv = conn.client.secrets.kv.v1 if v1 else conn.client.secrets.kv.v2
    try:
        return len(response_data(kv.list_secrets("", mount_point=mount)).get("keys") or [])
    except hvac_exc.InvalidPath:
        return 0
    except hvac_exc.Forbidden:
        return None  # walked by the cluster unit, which reports the 403


def large_kv_mounts(conn, *, threshold: int) -> list[str]:
    """The connector's KV mounts with at least `threshold` top-level keys (sys/mounts + one LIST each)."""
    engines = response_data(conn.client.sys.list_mounted_secrets_engines())
    large = []
    for mount in conn.kv_mounts:
        engine = engines.get(f"{mount}/")
        if not isinstance(engine, dict) or engine.get("type") not in ("kv", "generic"):
            continue  # the cluster unit reports a mount that is not KV
        v1 = str((engine.get("options") or {}).get("version", "")) in ("", "1")
        keys = _top_level_keys(conn, mount, v1=v1)
        if keys is not None and keys >= threshold:
            large.append(mount)
    return large


def plan(connector, ctx) -> list[Unit]:
    """[] (one unit, the whole cluster) unless a KV mount is large: then one `kv:<mount>` unit per
    large mount and the `cluster` unit after them."""
    threshold = settings.BOTAUDIT_VAULT_KV_FANOUT_KEYS
    if threshold <= 0:
        return []
    try:
        conn = vault_connect(connector)
    except ProbeError:
        return []  # bad options or credentials: the one unit fails with that said
    try:
        with vault_errors(conn, "planning"):
            large = large_kv_mounts(conn, threshold=threshold)
    except (ProbeError, hvac_exc.VaultError) as exc:
        log.info("vault %s: planned as one unit (%s)", connector.name, type(exc).__name__)
        return []
    finally:
        vault_logout(conn)
    if not large:
        return []
    kv_units = [Unit(name=kv_unit_name(m), params={"mount": m}, phase=0) for m in large]
    return [*kv_units, Unit(name=CLUSTER_UNIT, params={"fanned": large}, phase=1)]


@dataclass(frozen=True)
class Work:
    """What one unit of a vault connector collects."""

    kv_only: bool = False  # a kv:<mount> unit: health, mounts and that mount's KV, nothing else
    mounts: tuple[str, ...] | None = None  # the KV mounts it walks; None: every configured one
    fanned: tuple[str, ...] = ()  # the cluster unit: the mounts walked by kv units


def unit_work(ctx, kv_mounts: list[str]) -> Work:
    unit = getattr(ctx, "unit", None)
    name, params = (unit.name, unit.params or {}) if unit is not None else ("", {})
    if name.startswith(KV_UNIT):
        if not params.get("mount"):
            raise ProbeError(f"unit {name}: planned without its mount")
        return Work(kv_only=True, mounts=(params["mount"],))
    if name == CLUSTER_UNIT:
        fanned = tuple(params.get("fanned") or ())
        return Work(mounts=tuple(m for m in kv_mounts if m not in fanned), fanned=fanned)
    return Work()


def kv_published(obs: VaultObservations, fleet) -> list[list]:
    """What a kv unit publishes for the cluster's access checks: its secrets that belong to a bot,
    as [path, kv version, the custom_metadata owner keys] (never a value, no other metadata)."""
    attr = attribution_for(obs, fleet)
    return [[s.path, s.kv_version, {k: s.custom_metadata[k] for k in OWNER_KEYS if k in s.custom_metadata}]
            for s in obs.kv if attr.kv_owners(s)]


def kv_units_read(*, obs: VaultObservations, ctx, fanned, errors: list[str]) -> None:
    """The cluster unit: add the secrets its kv units published (this audit's, never an earlier
    one's) to `obs.kv_elsewhere`; a kv unit that is not `ok` is an error (this unit is partial)."""
    probe_run = getattr(ctx, "probe_run", None)
    runs = {}
    if probe_run is not None:
        runs = {pr.unit: pr for pr in ProbeRun.objects.filter(
            audit_run_id=probe_run.audit_run_id, connector_id=probe_run.connector_id,
            unit__in=[kv_unit_name(m) for m in fanned])}
    for mount in fanned:
        pr = runs.get(kv_unit_name(mount))
        status = pr.status if pr is not None else "missing"
        if status != ProbeRun.Status.OK:
            errors.append(f"unit {kv_unit_name(mount)} is {status}: who can read its secrets is not fully known, "
                          "so this unit resolves nothing")
        if status in (ProbeRun.Status.OK, ProbeRun.Status.PARTIAL):
            obs.kv_elsewhere += [
                KvSecret(mount=mount, path=path, created_time=None, updated_time=None, current_version=0,
                         versions=0, custom_metadata=dict(meta), kv_version=int(version))
                for path, version, meta in (pr.facts or {}).get("kv_owned", [])]
    obs.kv_elsewhere.sort(key=lambda s: (s.mount, s.path))
