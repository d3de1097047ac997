"""collect() for the aws kind: read-only calls, counted, turned into AwsObservations."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from ..registry import Collected, ProbeError
from .attribution import observations_attribute
from .errors import error_raise, error_text, is_unavailable
from .iam_collect import access_keys, authorization_details, roles_last_used, root_keys_present
from .model import AwsObservations
from .secrets_collect import secrets_collect
from .session import clients_build, options_parse


def collect(connector, ctx) -> Collected:
    options = connector.options or {}
    try:
        parsed = options_parse(name=connector.name, options=options)
    except ValueError as exc:
        raise ProbeError(str(exc)) from None
    clients = clients_build(name=connector.name, options=options)
    obs = AwsObservations(account_id=clients.account_id, regions=parsed.regions,
                          trusted_accounts=frozenset(parsed.trusted_accounts))
    errors: list[str] = []
    try:
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
        obs.secrets, obs.secret_regions_complete = secrets_collect(clients, errors)
        matched = observations_attribute(obs, ctx.fleet)
        roles_last_used(clients.iam, [p for p in obs.principals if p.kind == "role" and p.bot_id], errors)
    except (BotoCoreError, ClientError) as exc:
        error_raise(exc, where=f"connector {connector.name!r}")

    return Collected(
        observations=obs,
        api_calls=clients.counter.total,
        errors=errors,
        counts={
            "account": obs.account_id,
            "users": len(users),
            "roles": sum(p.kind == "role" for p in obs.principals),
            "active_keys": sum(k.active for k in obs.keys),
            "secrets": len(obs.secrets),
            "api_calls_by_operation": dict(sorted(clients.counter.by_operation.items())),
        },
        facts={"active_access_keys": {
            k.fingerprint: {"bot_id": k.bot_id, "user": k.user_arn, "redacted": k.redacted}
            for k in obs.keys if k.active
        }},
        credential_facts={
            cred_id: {"created_at": s.created, "last_rotated_at": s.last_rotated or s.last_changed,
                      "last_used_at": s.last_accessed}
            for cred_id, s in matched.items()
        },
    )
