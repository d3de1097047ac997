"""boto3 clients for one connector: default credential chain or assume-role (with external id),
adaptive retries, optional endpoint_url (moto, LocalStack), and a counter of API calls."""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from .errors import error_raise

DEFAULT_REGION = "us-east-1"
ACCOUNT_ID = re.compile(r"\d{12}")


class CallCounter:
    """Counts API operations (not retry attempts) across threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self.total = 0
        self.by_operation: dict[str, int] = {}

    def __call__(self, model=None, **_kwargs):
        name = getattr(model, "name", "?")
        with self._lock:
            self.total += 1
            self.by_operation[name] = self.by_operation.get(name, 0) + 1


@dataclass
class Clients:
    account_id: str
    iam: object
    secrets: dict[str, object]  # region -> secretsmanager client
    counter: CallCounter = field(default_factory=CallCounter)


@dataclass(frozen=True)
class AwsOptions:
    regions: tuple[str, ...]
    endpoint_url: str | None
    assume_role: str | None
    external_id: str | None
    max_attempts: int
    trusted_accounts: tuple[str, ...] = ()  # accounts outside this one that roles may trust
    organization: object = None  # org.OrgOptions when the connector audits every account of an organization


def options_parse(*, name: str, options: dict) -> AwsOptions:
    """Validate a connector's options; errors name the connector and the option."""
    regions = options.get("regions") or [DEFAULT_REGION]
    if isinstance(regions, str):
        regions = [regions]
    if not isinstance(regions, list) or not all(isinstance(r, str) and r.strip() for r in regions):
        raise ValueError(f"connector {name!r}: option 'regions' must be a list of region names, got {regions!r}")
    for key in ("endpoint_url", "assume_role", "external_id"):
        value = options.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"connector {name!r}: option {key!r} must be a string, got {value!r}")
    attempts = options.get("max_attempts", 5)
    if not isinstance(attempts, int) or attempts < 1:
        raise ValueError(f"connector {name!r}: option 'max_attempts' must be a positive integer, got {attempts!r}")
    trusted = options.get("trusted_accounts") or []
    if not isinstance(trusted, list) or not all(isinstance(a, str | int) and ACCOUNT_ID.fullmatch(str(a))
                                                for a in trusted):
        raise ValueError(f"connector {name!r}: option 'trusted_accounts' must be a list of 12-digit AWS account "
                         f"ids, got {trusted!r}")
    from .org import org_options_parse

    return AwsOptions(
        regions=tuple(r.strip() for r in regions), endpoint_url=options.get("endpoint_url") or None,
        assume_role=options.get("assume_role") or None, external_id=options.get("external_id") or None,
        max_attempts=attempts, trusted_accounts=tuple(str(a) for a in trusted),
        organization=org_options_parse(name=name, value=options.get("organization")),
    )


def _config(opts: AwsOptions):
    from botocore.config import Config

    return Config(retries={"mode": "adaptive", "max_attempts": opts.max_attempts},
                  connect_timeout=5, read_timeout=60, max_pool_connections=16)


_LOADER = None
_LOADER_LOCK = threading.Lock()


def session_new(*, credentials: dict | None = None):
    """A new botocore session (the default credential chain, or `credentials` from AssumeRole).

    Every session shares one data loader: service models and endpoint rules are parsed once per
    process. Without it each unit's clients re-read ~0.2 s of JSON each (measured: 80% of a unit's
    CPU), which made parallel units CPU-bound (benchmarks/aws_org_bench.py)."""
    import botocore.loaders  # imported on first probe, not at Django start-up (~0.1 s)
    import botocore.session

    global _LOADER
    with _LOADER_LOCK:
        if _LOADER is None:
            _LOADER = botocore.loaders.create_loader(os.environ.get("AWS_DATA_PATH"))
    session = botocore.session.get_session()
    session.register_component("data_loader", _LOADER)
    if credentials:
        session.set_credentials(credentials["AccessKeyId"], credentials["SecretAccessKey"],
                                credentials["SessionToken"])
    return session


def session_base(*, name: str, opts: AwsOptions, counter: CallCounter):
    """The connector's own session: the default chain, or its `assume_role` (with external id)."""
    session = session_new()
    if opts.assume_role:
        session = session_assume(session=session, opts=opts, counter=counter, role_arn=opts.assume_role,
                                 external_id=opts.external_id, where=f"connector {name!r}: sts")
    return session


def client_make(session, service: str, *, opts: AwsOptions, counter: CallCounter, region: str = DEFAULT_REGION):
    c = session.create_client(service, region_name=region, endpoint_url=opts.endpoint_url, config=_config(opts))
    c.meta.events.register("before-call", counter)
    return c


def session_assume(*, session, opts: AwsOptions, counter: CallCounter, role_arn: str, external_id: str | None,
                   where: str):
    """A session of `role_arn`; a failure raises ProbeError/ProbeUnavailable prefixed with `where`."""
    kwargs = {"RoleArn": role_arn, "RoleSessionName": "botaudit-probe"}
    if external_id:
        kwargs["ExternalId"] = external_id
    try:
        sts = client_make(session, "sts", opts=opts, counter=counter, region=opts.regions[0])
        creds = sts.assume_role(**kwargs)["Credentials"]
    except (BotoCoreError, ClientError) as exc:
        error_raise(exc, where=where)
    return session_new(credentials=creds)


def clients_build(*, name: str, options: dict, unit=None) -> Clients:
    """Build the read-only clients. Raises ProbeError/ProbeUnavailable naming the connector.

    With a unit (scanners.registry.Unit of the aws plan): the session of its account (its
    `role_arn` assumed from the connector's session, the organization's external id), and only the
    unit's region for Secrets Manager; the account id is the unit's (no GetCallerIdentity)."""
    opts = options_parse(name=name, options=options)
    counter = CallCounter()
    session = session_base(name=name, opts=opts, counter=counter)
    if unit is not None and unit.name:
        return _unit_clients(name=name, opts=opts, counter=counter, session=session, unit=unit)
    try:
        sts = client_make(session, "sts", opts=opts, counter=counter, region=opts.regions[0])
        account_id = sts.get_caller_identity()["Account"]
    except (BotoCoreError, ClientError) as exc:
        error_raise(exc, where=f"connector {name!r}: sts")
    return Clients(
        account_id=account_id, iam=client_make(session, "iam", opts=opts, counter=counter),
        secrets={r: client_make(session, "secretsmanager", opts=opts, counter=counter, region=r)
                 for r in opts.regions},
        counter=counter,
    )


def _unit_clients(*, name, opts: AwsOptions, counter: CallCounter, session, unit) -> Clients:
    from ..registry import ProbeError

    params = unit.params
    account = params.get("account") or unit.account
    if params.get("not_in_organization"):
        raise ProbeError(f"connector {name!r}: account {account} is in `include` but not an active account of "
                         f"the organization")
    role_arn = params.get("role_arn") or ""
    if role_arn:
        external_id = opts.organization.external_id if opts.organization else None
        session = session_assume(session=session, opts=opts, counter=counter, role_arn=role_arn,
                                 external_id=external_id,
                                 where=f"connector {name!r}: account {account}: cannot assume role {role_arn}")
    region = params.get("region")
    regions = [region] if region else []
    return Clients(
        account_id=account, iam=client_make(session, "iam", opts=opts, counter=counter),
        secrets={r: client_make(session, "secretsmanager", opts=opts, counter=counter, region=r)
                 for r in (regions or opts.regions)},
        counter=counter,
    )
