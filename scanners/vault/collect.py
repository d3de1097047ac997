"""collect(): read-only calls to one Vault / OpenBao cluster. Only metadata endpoints: no KV
value, token id or secret id is ever requested. A 403 on one endpoint is recorded as an error
(the probe becomes partial) and the rest still runs."""

from __future__ import annotations

from hvac import exceptions as hvac_exc

from ..registry import Collected, ProbeError
from ..subjects import connector_key
from .attribution import kv_credentials
from .client import VaultConnection, response_data, vault_connect, vault_errors, vault_logout
from .fanout import Fanout
from .kv import KvWalker
from .observations import AppRole, Entity, EntityAlias, Group, TokenInfo, TokenRole, VaultObservations, parse_time
from .policy import PolicyParseError, Rule, policy_parse
from .units import kv_published, kv_units_read, unit_work

ROOT_RULES = [Rule(path="*", capabilities=frozenset({"create", "read", "update", "delete", "list", "sudo"}))]


def _keys(call) -> list[str]:
    """A LIST call's keys; a 404 (nothing there) is an empty list."""
    try:
        return list(response_data(call()).get("keys") or [])
    except hvac_exc.InvalidPath:
        return []


def _health(conn: VaultConnection, obs: VaultObservations, _fan, _errors) -> None:
    health = conn.client.sys.read_health_status(method="GET")
    if isinstance(health, dict):
        if health.get("sealed"):
            raise ProbeError(f"{conn.url}: Vault is sealed")
        if health.get("initialized") is False:
            raise ProbeError(f"{conn.url}: Vault is not initialized")
        obs.version = str(health.get("version", ""))
    try:
        conn.client.auth.token.lookup_self()
    except hvac_exc.Forbidden:
        raise ProbeError(f"{conn.url}: the probe's token was rejected (invalid, expired or revoked, "
                         "or its policies lack read on auth/token/lookup-self)") from None


def _audit(conn, obs, _fan, _errors) -> None:
    try:
        obs.audit_devices = sorted(response_data(conn.client.sys.list_enabled_audit_devices()))
    except hvac_exc.InvalidRequest as exc:
        if "root namespace" not in str(exc):
            raise
        # audit devices are cluster-wide: a probe scoped to a namespace cannot see them (left unknown)


def _mounts(conn, obs, _fan, _errors) -> None:
    auth = {p: m for p, m in response_data(conn.client.sys.list_auth_methods()).items() if isinstance(m, dict)}
    obs.auth_methods = {p: m.get("type", "") for p, m in auth.items()}
    obs.auth_accessors = {p: m.get("accessor", "") for p, m in auth.items()}
    obs.secret_engines = {
        p: {"type": m.get("type", ""), "version": str((m.get("options") or {}).get("version", ""))}
        for p, m in response_data(conn.client.sys.list_mounted_secrets_engines()).items() if isinstance(m, dict)
    }


def _policies(conn, obs, fan: Fanout, errors) -> None:
    names = _keys(conn.client.sys.list_acl_policies)
    for name, fut in fan.map(lambda n: conn.client.sys.read_acl_policy(n), [n for n in names if n != "root"]):
        try:
            obs.policies[name] = policy_parse(name, response_data(fut.result()).get("policy", ""))
        except hvac_exc.Forbidden:
            errors.append(f"policies: permission denied reading sys/policies/acl/{name}")
        except PolicyParseError as exc:
            errors.append(str(exc))
    obs.policies["root"] = ROOT_RULES


def _tokens(conn, obs, fan: Fanout, errors) -> None:
    try:
        accessors = _keys(conn.client.auth.token.list_accessors)
    except hvac_exc.Forbidden:
        errors.append("token accessors: permission denied on LIST auth/token/accessors (needs sudo); "
                      "token checks skipped")
        return
    tokens = []
    accessors = [a for a in accessors if a != conn.login_accessor]  # the probe's own short-lived login
    for accessor, fut in fan.map(conn.client.auth.token.lookup_accessor, accessors):
        try:
            d = response_data(fut.result())
        except (hvac_exc.InvalidRequest, hvac_exc.InvalidPath):
            continue  # expired or revoked between the listing and the lookup
        tokens.append(TokenInfo(
            accessor=accessor, policies=list(d.get("policies") or []), ttl=int(d.get("ttl") or 0),
            creation_ttl=int(d.get("creation_ttl") or 0), expire_time=parse_time(d.get("expire_time")),
            creation_time=d.get("creation_time"), orphan=bool(d.get("orphan")), period=int(d.get("period") or 0),
            display_name=d.get("display_name") or "", meta=dict(d.get("meta") or {}), role=d.get("role") or "",
            path=d.get("path") or "", entity_id=d.get("entity_id") or "",
        ))
    obs.tokens = sorted(tokens, key=lambda t: t.accessor)


def _read_approle(conn, mount: str, name: str) -> AppRole:
    approle = conn.client.auth.approle
    role = AppRole(mount=mount, name=name, settings=response_data(approle.read_role(name, mount_point=mount)))
    for accessor in _keys(lambda: approle.list_secret_id_accessors(name, mount_point=mount)):
        try:
            info = response_data(approle.read_secret_id_accessor(name, accessor, mount_point=mount))
        except (hvac_exc.InvalidRequest, hvac_exc.InvalidPath):
            continue
        role.secret_ids.append({k: info.get(k) for k in (
            "secret_id_accessor", "secret_id_ttl", "secret_id_num_uses", "expiration_time",
            "creation_time", "cidr_list", "token_bound_cidrs")})
    return role


def _approles(conn, obs, fan: Fanout, errors) -> None:
    roles, complete = [], True
    for path in sorted(p for p, kind in obs.auth_methods.items() if kind == "approle"):
        mount = path.strip("/")
        try:
            names = _keys(lambda m=mount: conn.client.auth.approle.list_roles(mount_point=m))
        except hvac_exc.Forbidden:
            errors.append(f"approle: permission denied listing auth/{mount}/role")
            complete = False
            continue
        for name, fut in fan.map(lambda n, m=mount: _read_approle(conn, m, n), names):
            try:
                roles.append(fut.result())
            except hvac_exc.Forbidden:
                errors.append(f"approle: permission denied reading auth/{mount}/role/{name}")
                complete = False
    obs.approles = sorted(roles, key=lambda r: (r.mount, r.name)) if complete else None


def _token_roles(conn, obs, fan: Fanout, errors) -> None:
    token = conn.client.auth.token
    try:
        names = _keys(token.list_roles)
    except hvac_exc.Forbidden:
        errors.append("token roles: permission denied listing auth/token/roles")
        return
    roles = []
    for name, fut in fan.map(token.read_role, names):
        d = response_data(fut.result())
        roles.append(TokenRole(name=name, allowed_policies=list(d.get("allowed_policies") or []),
                               no_default_policy=bool(d.get("token_no_default_policy"))))
    obs.token_roles = sorted(roles, key=lambda r: r.name)


def _entity(d: dict) -> Entity:
    aliases = [EntityAlias(id=a.get("id") or "", mount_accessor=a.get("mount_accessor") or "",
                           mount_path=a.get("mount_path") or "", name=a.get("name") or "",
                           role_name=(a.get("metadata") or {}).get("role_name") or "",
                           metadata=dict(a.get("metadata") or {})) for a in d.get("aliases") or []]
    groups = {*(d.get("group_ids") or []), *(d.get("direct_group_ids") or []), *(d.get("inherited_group_ids") or [])}
    return Entity(id=d.get("id") or "", name=d.get("name") or "", policies=list(d.get("policies") or []),
                  metadata=dict(d.get("metadata") or {}), aliases=aliases, group_ids=sorted(groups),
                  disabled=bool(d.get("disabled")))


def _identity(conn, obs, fan: Fanout, errors) -> None:
    """Entities and groups: the policies a token gets from its identity, and template values."""
    identity = conn.client.secrets.identity
    entities = []
    for _, fut in fan.map(lambda i: identity.read_entity(i), _keys(lambda: identity.list_entities(method="LIST"))):
        try:
            entities.append(_entity(response_data(fut.result())))
        except hvac_exc.InvalidPath:
            continue  # deleted since the listing
    for _, fut in fan.map(lambda i: identity.read_group(i), _keys(lambda: identity.list_groups(method="LIST"))):
        try:
            d = response_data(fut.result())
        except hvac_exc.InvalidPath:
            continue
        obs.groups[d["id"]] = Group(id=d["id"], name=d.get("name") or "", policies=list(d.get("policies") or []),
                                    metadata=dict(d.get("metadata") or {}))
    obs.entities = sorted(entities, key=lambda e: e.id)


def _kv(conn, obs, fan: Fanout, errors) -> None:
    mounts, v1 = [], set()
    for mount in conn.kv_mounts:
        engine = obs.secret_engines.get(f"{mount}/")
        if obs.secret_engines and (engine is None or engine["type"] not in ("kv", "generic")):
            errors.append(f"kv mount {mount!r}: not a KV secret engine on {conn.url}")
            continue
        if engine and engine["version"] in ("", "1"):
            v1.add(mount)
        mounts.append(mount)
    walker = KvWalker(conn, fan, errors, v1=v1)
    obs.kv = walker.walk(mounts)
    obs.kv_mounts_complete = set(mounts) - walker.failed


def _first_line(exc) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]


SECTIONS = [
    ("health", _health), ("audit devices (sys/audit, needs sudo)", _audit), ("mounts", _mounts),
    ("policies", _policies), ("token accessors", _tokens), ("approle", _approles),
    ("token roles", _token_roles), ("identity entities and groups", _identity), ("kv metadata", _kv),
]
KV_SECTIONS = [("health", _health), ("mounts", _mounts), ("kv metadata", _kv)]  # a kv:<mount> unit (units.py)


def _sections_run(conn, obs, sections, errors: list[str]) -> None:
    with Fanout(conn.workers) as fan:
        for what, section in sections:
            with vault_errors(conn, what):
                try:
                    section(conn, obs, fan, errors)
                except hvac_exc.Forbidden as exc:
                    errors.append(f"{what}: permission denied ({_first_line(exc)})")
                except (hvac_exc.InvalidRequest, hvac_exc.InvalidPath, hvac_exc.UnexpectedError) as exc:
                    errors.append(f"{what}: {type(exc).__name__} ({_first_line(exc)})")


def collect(connector, ctx) -> Collected:
    """The whole cluster, or one unit of it (vault/units.py: a `kv:<mount>` unit or the `cluster` unit)."""
    conn = vault_connect(connector)
    obs = VaultObservations(cluster=connector_key(connector.pk), url=conn.url)
    errors: list[str] = []
    all_mounts = list(conn.kv_mounts)
    try:
        work = unit_work(ctx, all_mounts)
        if work.mounts is not None:
            conn.kv_mounts = list(work.mounts)
        _sections_run(conn, obs, KV_SECTIONS if work.kv_only else SECTIONS, errors)
    finally:
        vault_logout(conn)
    if work.fanned:
        kv_units_read(obs=obs, ctx=ctx, fanned=work.fanned, errors=errors)
    credential_facts = {
        cred.pk: {"created_at": secret.created_time, "last_rotated_at": secret.updated_time}
        for cred, secret in kv_credentials(obs, ctx.fleet, all_mounts)
    }
    counts = {"kv_secrets": len(obs.kv), "http_requests": conn.counter.value}
    if not work.kv_only:
        counts.update(policies=len(obs.policies) - 1, tokens=len(obs.tokens or []), approles=len(obs.approles or []),
                      audit_devices=len(obs.audit_devices or []))
    facts = {"cluster": connector.name, "url": conn.url, "version": obs.version, "kv_secrets": len(obs.kv)}
    if work.kv_only:
        facts["kv_owned"] = kv_published(obs, ctx.fleet)
    return Collected(observations=obs, api_calls=conn.counter.value, errors=errors, counts=counts,
                     facts=facts, credential_facts=credential_facts)
