"""AWS units: the plan of an aws connector (IAM once per account, Secrets Manager per account x
region), and the `organization` option that makes the accounts every active account of an AWS
Organization (organizations:ListAccounts from the management or delegated-admin account)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from ..registry import ProbeError, Unit
from .errors import error_raise

DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
ORG_KEYS = {"role_name", "external_id", "include", "exclude"}
_ACCOUNT_ID = re.compile(r"\d{12}")
LIST_PAGE = 20
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")


@dataclass(frozen=True)
class OrgOptions:
    role_name: str = DEFAULT_ROLE_NAME
    external_id: str | None = None
    include: tuple[str, ...] = ()  # empty: every active account
    exclude: tuple[str, ...] = ()


def _ids(*, name: str, field: str, value) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(a, str | int) and _ACCOUNT_ID.fullmatch(str(a))
                                              for a in value):
        raise ValueError(f"connector {name!r}: option 'organization.{field}' must be a list of 12-digit AWS "
                         f"account ids, got {value!r}")
    return tuple(str(a) for a in value)


def org_options_parse(*, name: str, value) -> OrgOptions | None:
    """The `organization` option: absent/false = no organization; true or a mapping = one. Errors
    name the connector and the field."""
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    if not isinstance(value, dict):
        raise ValueError(f"connector {name!r}: option 'organization' must be a mapping "
                         f"({{role_name, external_id, include, exclude}}), got {value!r}")
    unknown = sorted(set(value) - ORG_KEYS)
    if unknown:
        raise ValueError(f"connector {name!r}: option 'organization' has unknown field(s) {', '.join(unknown)} "
                         f"(known: {', '.join(sorted(ORG_KEYS))})")
    role_name = value.get("role_name") or DEFAULT_ROLE_NAME
    if not isinstance(role_name, str) or not _ROLE_NAME.fullmatch(role_name):
        raise ValueError(f"connector {name!r}: option 'organization.role_name' must be an IAM role name, "
                         f"got {role_name!r}")
    external_id = value.get("external_id")
    if external_id is not None and not (isinstance(external_id, str) and external_id.strip()):
        raise ValueError(f"connector {name!r}: option 'organization.external_id' must be a non-empty string, "
                         f"got {external_id!r}")
    include = _ids(name=name, field="include", value=value.get("include"))
    exclude = _ids(name=name, field="exclude", value=value.get("exclude"))
    return OrgOptions(role_name=role_name, external_id=external_id or None, include=include, exclude=exclude)


def organization_accounts(organizations) -> list[str]:
    """Ids of the organization's ACTIVE accounts, every page of ListAccounts (20 a page, AWS's maximum)."""
    pages = organizations.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": LIST_PAGE})
    return [a["Id"] for page in pages
            for a in page.get("Accounts", []) if a.get("Status") == "ACTIVE"]


def account_units(*, account: str, role_arn: str, regions, extra: dict) -> list[Unit]:
    """IAM once for the account, Secrets Manager once per region."""
    base = {"account": account, "role_arn": role_arn, **extra}
    units = [Unit(name=f"{account}/iam", account=account, params={**base}, phase=0)]
    units += [Unit(name=f"{account}/{region}", account=account, params={**base, "region": region}, phase=0)
              for region in regions]
    return units


def plan(connector, ctx) -> list[Unit]:
    """The units of an aws connector. Calls sts:GetCallerIdentity, and organizations:ListAccounts
    when the `organization` option is set. Raises ProbeError naming the connector."""
    from .session import CallCounter, client_make, options_parse, session_base

    name = connector.name
    try:
        opts = options_parse(name=name, options=connector.options or {})
    except ValueError as exc:
        raise ProbeError(str(exc)) from None
    counter = CallCounter()
    session = session_base(name=name, opts=opts, counter=counter)
    org = opts.organization
    try:
        caller = client_make(session, "sts", opts=opts, counter=counter,
                             region=opts.regions[0]).get_caller_identity()["Account"]
        if org is None:
            return account_units(account=caller, role_arn="", regions=opts.regions, extra={})
        active = organization_accounts(client_make(session, "organizations", opts=opts, counter=counter))
    except (BotoCoreError, ClientError) as exc:
        error_raise(exc, where=f"connector {name!r}: planning")
    chosen = [a for a in (org.include or active) if a not in set(org.exclude)]
    audited = sorted({*active, caller})
    units = []
    for account in dict.fromkeys(chosen):
        role_arn = "" if account == caller else f"arn:aws:iam::{account}:role/{org.role_name}"
        extra = {"audited_accounts": audited}
        if account not in active:
            extra["not_in_organization"] = True
        units += account_units(account=account, role_arn=role_arn, regions=opts.regions, extra=extra)
    return units
