"""What the AWS probe observed: plain dataclasses, no secret values (key ids only as a redacted
preview and a keyed fingerprint)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from .policy import Permissions, Statement

SERVICE_PATHS = ("/aws-service-role/", "/aws-reserved/")


def arn_account(arn: str) -> str:
    """The account id of an ARN (`arn:aws:iam::123456789012:role/x` -> 123456789012), else ""."""
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[0] == "arn" else ""


@dataclass
class Principal:
    arn: str
    name: str
    kind: str  # "user" | "role"
    path: str = "/"
    tags: dict[str, str] = field(default_factory=dict)
    statements: list[Statement] = field(default_factory=list)
    attached: list[str] = field(default_factory=list)  # managed policy ARNs (incl. via groups)
    unknown_policies: list[str] = field(default_factory=list)  # attached ARNs without a document
    trust: dict | None = None  # roles: the assume-role policy document
    created: datetime | None = None
    last_used: datetime | None = None  # roles of bots: RoleLastUsed.LastUsedDate
    bot_id: int | None = None
    owner_via: str = ""  # "manifest" | "tag" | ""

    @cached_property
    def permissions(self) -> Permissions:
        return Permissions(self.statements, kind=self.kind)

    @property
    def service_managed(self) -> bool:
        return self.path.startswith(SERVICE_PATHS)


@dataclass
class AccessKey:
    user_arn: str
    user_name: str
    fingerprint: str
    redacted: str
    active: bool
    created: datetime | None
    last_used: datetime | None
    bot_id: int | None = None


@dataclass
class Secret:
    arn: str
    name: str
    region: str
    tags: dict[str, str] = field(default_factory=dict)
    rotation_enabled: bool = False
    created: datetime | None = None
    last_rotated: datetime | None = None
    last_changed: datetime | None = None
    last_accessed: datetime | None = None
    policy: dict | None = None
    bot_id: int | None = None
    owner_via: str = ""
    credential_ids: list[int] = field(default_factory=list)


@dataclass
class AwsObservations:
    account_id: str
    regions: tuple[str, ...]
    principals: list[Principal] = field(default_factory=list)
    keys: list[AccessKey] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)
    root_keys: bool | None = None
    iam_complete: bool = False  # users/roles fully listed (else no "missing" findings for them)
    secret_regions_complete: set[str] = field(default_factory=set)
    trusted_accounts: frozenset[str] = frozenset()  # connector option: other accounts roles may trust
    data_stores: list = field(default_factory=list)  # data_stores.DataStore named by inventory refs
    # (plus, with `organization`, every account of the organization)
    # An `<account>/iam` unit lists the secrets only to know whose they are (for
    # aws.policy.reads_other_bots_secrets); the secret checks run in the region units, never on these.
    listed_secrets: list[Secret] = field(default_factory=list)
    bare_refs: bool = True  # judge manifest refs that are not ARNs; False in an organization (no account)

    def principal(self, arn: str) -> Principal | None:
        return next((p for p in self.principals if p.arn == arn), None)
