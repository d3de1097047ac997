"""The validated manifest: plain, frozen dataclasses. `path` and `line` say where each came from."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TeamSpec:
    name: str
    email: str
    members: tuple[str, ...] | None  # None: the file does not manage membership
    path: str = ""
    line: int = 0
    # {"webhook_url_env": NAME, "min_severity": "high", "format": "json"|"slack"}, or {} (no webhook)
    notify: dict = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class OwnerSpec:
    """One entry of the top-level `owners:` mapping: an owner's email and whether they left."""

    email: str
    departed: bool
    path: str = ""
    line: int = 0


@dataclass(frozen=True)
class RepositorySpec:
    name: str
    url: str
    branches: tuple[str, ...]
    path: str = ""
    line: int = 0


@dataclass(frozen=True)
class ConnectorSpec:
    name: str
    kind: str
    enabled: bool
    options: dict = field(hash=False)
    path: str = ""
    line: int = 0


@dataclass(frozen=True)
class IdentitySpec:
    kind: str
    ref: str
    path: str = ""
    line: int = 0


@dataclass(frozen=True)
class CredentialSpec:
    name: str
    store: str
    ref: str
    service: str
    rotation_days: int | None
    path: str = ""
    line: int = 0


@dataclass(frozen=True)
class BotSpec:
    name: str
    team: str
    owner: str
    environment: str
    description: str
    status: str
    identities: tuple[IdentitySpec, ...]
    credentials: tuple[CredentialSpec, ...]
    repositories: tuple[str, ...]
    path: str = ""
    line: int = 0


@dataclass(frozen=True)
class Manifest:
    source: str
    teams: tuple[TeamSpec, ...] = ()
    repositories: tuple[RepositorySpec, ...] = ()
    connectors: tuple[ConnectorSpec, ...] = ()
    bots: tuple[BotSpec, ...] = ()
    owners: tuple[OwnerSpec, ...] | None = None  # None: the file does not manage owners
