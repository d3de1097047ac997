"""What the Vault probe sees: plain dataclasses, never a secret value (no KV data, no token ids,
no secret ids — only metadata and accessors)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.dateparse import parse_datetime

from .policy import Rule


def parse_time(value) -> datetime | None:
    """Vault timestamps (RFC 3339, nanoseconds) -> aware datetime; '' / zero time -> None."""
    if not value or not isinstance(value, str) or value.startswith("0001-01-01"):
        return None
    head, dot, rest = value.partition(".")
    if dot:  # trim nanoseconds to microseconds, keep the zone
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits):]
        value = f"{head}.{digits[:6]}{zone}"
    return parse_datetime(value)


@dataclass
class KvSecret:
    mount: str
    path: str
    created_time: datetime | None
    updated_time: datetime | None
    current_version: int
    versions: int
    custom_metadata: dict
    kv_version: int = 2  # 1: a KV version 1 mount (no metadata; values at <mount>/<path>)

    @property
    def ref(self) -> str:
        return f"{self.mount}/{self.path}"

    @property
    def read_path(self) -> str:
        """The API path that reads the value (what a policy must allow)."""
        return f"{self.mount}/data/{self.path}" if self.kv_version == 2 else self.ref


@dataclass
class TokenInfo:
    accessor: str
    policies: list[str]
    ttl: int
    creation_ttl: int
    expire_time: datetime | None
    creation_time: int | None
    orphan: bool
    period: int
    display_name: str
    meta: dict
    role: str
    path: str
    entity_id: str = ""


@dataclass
class AppRole:
    mount: str
    name: str
    settings: dict  # read_role data (no secrets in it)
    secret_ids: list[dict] = field(default_factory=list)  # read_secret_id_accessor data


@dataclass
class TokenRole:
    name: str
    allowed_policies: list[str]
    no_default_policy: bool = False


@dataclass
class EntityAlias:
    id: str
    mount_accessor: str
    mount_path: str  # e.g. "auth/approle/"
    name: str  # AppRole: the role id (an identifier, like a user name): for templates only, never in evidence
    role_name: str  # AppRole aliases: metadata.role_name
    metadata: dict = field(default_factory=dict)


@dataclass
class Entity:
    id: str
    name: str
    policies: list[str]
    metadata: dict
    aliases: list[EntityAlias]
    group_ids: list[str]  # direct and inherited groups
    disabled: bool = False


@dataclass
class Group:
    id: str
    name: str
    policies: list[str]
    metadata: dict


@dataclass
class VaultObservations:
    cluster: str  # stable cluster identity (subjects.connector_key), part of every subject
    url: str
    version: str = ""
    audit_devices: list[str] | None = None  # None: could not be read
    auth_methods: dict[str, str] = field(default_factory=dict)  # path -> type
    secret_engines: dict[str, dict] = field(default_factory=dict)  # path -> {type, version}
    kv: list[KvSecret] = field(default_factory=list)
    kv_mounts_complete: set[str] = field(default_factory=set)  # fully listed, so "missing" is trustworthy
    # Secrets of mounts walked by this cluster's kv units (vault/units.py), as they published them:
    # for the access checks only; the KV checks of those mounts ran in those units.
    kv_elsewhere: list[KvSecret] = field(default_factory=list)
    policies: dict[str, list[Rule]] = field(default_factory=dict)
    tokens: list[TokenInfo] | None = None  # None: accessors not readable (needs sudo)
    approles: list[AppRole] | None = None  # None: not fully readable
    token_roles: list[TokenRole] | None = None
    auth_accessors: dict[str, str] = field(default_factory=dict)  # auth mount path -> accessor
    entities: list[Entity] | None = None  # None: identity not readable
    groups: dict[str, Group] = field(default_factory=dict)  # id -> group
