"""boto3 clients for one connector: default credential chain or assume-role (with external id),
adaptive retries, optional endpoint_url (moto, LocalStack), and a counter of API calls."""

from __future__ import annotations

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
    return AwsOptions(
        regions=tuple(r.strip() for r in regions), endpoint_url=options.get("endpoint_url") or None,
        assume_role=options.get("assume_role") or None, external_id=options.get("external_id") or None,
        max_attempts=attempts, trusted_accounts=tuple(str(a) for a in trusted),
    )


def _config(opts: AwsOptions):
    from botocore.config import Config

    return Config(retries={"mode": "adaptive", "max_attempts": opts.max_attempts},
                  connect_timeout=5, read_timeout=60, max_pool_connections=16)


def clients_build(*, name: str, options: dict) -> Clients:
    """Build the read-only clients. Raises ProbeError/ProbeUnavailable naming the connector."""
    import boto3  # imported on first probe, not at Django start-up (~0.1 s)

    opts = options_parse(name=name, options=options)
    counter = CallCounter()
    config = _config(opts)
    session = boto3.session.Session()

    def client(service, region=DEFAULT_REGION, sess=None):
        c = (sess or session).client(service, region_name=region, endpoint_url=opts.endpoint_url, config=config)
        c.meta.events.register("before-call", counter)
        return c

    where = f"connector {name!r}"
    try:
        if opts.assume_role:
            kwargs = {"RoleArn": opts.assume_role, "RoleSessionName": "botaudit-probe"}
            if opts.external_id:
                kwargs["ExternalId"] = opts.external_id
            creds = client("sts", opts.regions[0]).assume_role(**kwargs)["Credentials"]
            session = boto3.session.Session(
                aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
            )
        account_id = client("sts", opts.regions[0]).get_caller_identity()["Account"]
    except (BotoCoreError, ClientError) as exc:
        error_raise(exc, where=f"{where}: sts")
    return Clients(
        account_id=account_id, iam=client("iam"),
        secrets={r: client("secretsmanager", r) for r in opts.regions}, counter=counter,
    )
