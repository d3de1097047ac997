"""collect() for the aws kind: read-only calls, counted, turned into AwsObservations.

Without a unit (or unit ""): the whole connector (its account, IAM and every region). With a unit
of the plan (org.plan): `<account>/iam` reads IAM only (plus ListSecrets of the configured regions,
only to know whose secrets a principal may read); `<account>/<region>` reads that region's Secrets
Manager only."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from ..registry import Collected, ProbeError
from .attribution import observations_attribute
from .errors import error_raise, error_text, is_unavailable
from .iam_collect import access_keys, authorization_details, roles_last_used, root_keys_present
from .model import AwsObservations
from .secrets_collect import secrets_collect, secrets_list
from .session import clients_build, options_parse


def collect(connector, ctx) -> Collected:
    options = connector.options or {}
    try:
        parsed = options_parse(name=connector.name, options=options)
    except ValueError as exc:
        raise ProbeError(str(exc)) from None
    unit = getattr(ctx, "unit", None)
    unit = unit if unit is not None and unit.name else None
    clients = clients_build(name=connector.name, options=options, unit=unit)
    params = unit.params if unit else {}
    obs = AwsObservations(
        account_id=clients.account_id, regions=parsed.regions,
        trusted_accounts=frozenset({*parsed.trusted_accounts, *params.get("audited_accounts", [])}),
        bare_refs=parsed.organization is None,
    )
    errors: list[str] = []
    do_iam = unit is None or not params.get("region")
    do_secrets = unit is None or bool(params.get("region"))
    matched: dict = {}
    try:
        if do_iam:
            _iam(clients, obs, errors)
        if do_secrets:
            obs.secrets, obs.secret_regions_complete = secrets_collect(clients, errors)
        elif clients.secrets:
            obs.listed_secrets = _secrets_listed(clients, errors)
        matched = observations_attribute(obs, ctx.fleet)
        if do_iam:
            roles_last_used(clients.iam, [p for p in obs.principals if p.kind == "role" and p.bot_id], errors)
    except (BotoCoreError, ClientError) as exc:
        where = f"connector {connector.name!r}" + (f" unit {unit.name}" if unit else "")
        error_raise(exc, where=where)
    return _collected(obs, clients, errors, matched, do_iam=do_iam, do_secrets=do_secrets)


def _iam(clients, obs: AwsObservations, errors: list[str]) -> None:
    try:
        obs.principals = authorization_details(clients.iam)
        obs.iam_complete = True
    except (BotoCoreError, ClientError) as exc:
        if is_unavailable(exc):
            raise
        errors.append(error_text(exc, where="iam:GetAccountAuthorizationDetails"))
    users = [p for p in obs.principals if p.kind == "user"]
    obs.keys, report_root = access_keys(clients.iam, users, errors)
    summary_root = root_keys_present(clients.iam, errors)
    obs.root_keys = None if report_root is None and summary_root is None else bool(report_root or summary_root)


def _secrets_listed(clients, errors: list[str]):
    """ListSecrets only (no resource policies): whose secrets exist, for aws.policy.reads_other_bots_secrets."""
    out = []
    for region, client in clients.secrets.items():
        try:
            out += secrets_list(client, region)
        except (BotoCoreError, ClientError) as exc:
            if is_unavailable(exc):
                raise
            errors.append(error_text(exc, where=f"secretsmanager:ListSecrets in {region}"))
    return out


def _collected(obs, clients, errors, matched, *, do_iam: bool, do_secrets: bool) -> Collected:
    counts: dict = {"account": obs.account_id}
    if do_iam:
        counts.update(users=sum(p.kind == "user" for p in obs.principals),
                      roles=sum(p.kind == "role" for p in obs.principals), active_keys=sum(k.active for k in obs.keys))
    if do_secrets:
        counts["secrets"] = len(obs.secrets)
    counts["api_calls_by_operation"] = dict(sorted(clients.counter.by_operation.items()))
    facts = {"active_access_keys": {
        k.fingerprint: {"bot_id": k.bot_id, "user": k.user_arn, "redacted": k.redacted, "account": obs.account_id}
        for k in obs.keys if k.active
    }} if do_iam else {}
    return Collected(
        observations=obs, api_calls=clients.counter.total, errors=errors, counts=counts,
        facts=facts,
        credential_facts={
            cred_id: {"created_at": s.created, "last_rotated_at": s.last_rotated or s.last_changed,
                      "last_used_at": s.last_accessed}
            for cred_id, s in matched.items()
        },
    )
