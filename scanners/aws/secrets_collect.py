"""Secrets Manager reads: list_secrets in every region (all pages) and each secret's resource
policy (the one per-secret call; run on a small thread pool). Never GetSecretValue."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from .errors import error_code, error_text, is_unavailable
from .model import Secret
from .policy import document_load


def _secret(item: dict, region: str) -> Secret:
    return Secret(
        arn=item["ARN"], name=item.get("Name", ""), region=region,
        tags={t["Key"]: t.get("Value", "") for t in item.get("Tags") or []},
        rotation_enabled=bool(item.get("RotationEnabled")), created=item.get("CreatedDate"),
        last_rotated=item.get("LastRotatedDate"), last_changed=item.get("LastChangedDate"),
        last_accessed=item.get("LastAccessedDate"),
    )


def secrets_list(client, region: str) -> list[Secret]:
    return [
        _secret(item, region)
        for page in client.get_paginator("list_secrets").paginate()
        for item in page.get("SecretList", [])
    ]


def _policy(client, secret: Secret):
    try:
        text = client.get_resource_policy(SecretId=secret.arn).get("ResourcePolicy")
        secret.policy = document_load(text) if text else None
        return None
    except (BotoCoreError, ClientError) as exc:
        if is_unavailable(exc):
            raise
        if error_code(exc) == "ResourceNotFoundException":  # deleted since it was listed
            return None
        return exc


def resource_policies(client, secrets: list[Secret], region: str, errors: list[str]) -> None:
    """Fill `secret.policy`. Failures are summarised in one error per region and kind."""
    workers = getattr(settings, "BOTAUDIT_AWS_WORKERS", 8)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        failures = [(s, exc) for s, exc in zip(secrets, pool.map(lambda s: _policy(client, s), secrets),
                                               strict=True) if exc]
    by_text: dict[str, list[str]] = {}
    for secret, exc in failures:
        by_text.setdefault(error_text(exc, where=f"secretsmanager:GetResourcePolicy in {region}"), []).append(
            secret.name
        )
    for text, names in by_text.items():
        errors.append(f"{text} ({len(names)} secret(s), e.g. {names[0]})")


def secrets_collect(clients, errors: list[str]) -> tuple[list[Secret], set[str]]:
    """All secrets of all configured regions; returns (secrets, regions listed completely)."""
    out, complete = [], set()
    for region, client in clients.secrets.items():
        try:
            found = secrets_list(client, region)
        except (BotoCoreError, ClientError) as exc:
            if is_unavailable(exc):
                raise
            errors.append(error_text(exc, where=f"secretsmanager:ListSecrets in {region}"))
            continue
        complete.add(region)
        resource_policies(client, found, region, errors)
        out += found
    return out, complete
