"""botocore Stubber, only for the fields moto lacks: a secret's LastAccessedDate and a role's
RoleLastUsed. The stub replays moto's real responses and adds just those fields."""

import boto3
from botocore.stub import Stubber

from scanners.aws import collect as collect_module


def _clean(resp):
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def stub_last_accessed(monkeypatch, settings, accessed: dict):
    """Make the probe's secretsmanager clients report LastAccessedDate for the named secrets."""
    settings.BOTAUDIT_AWS_WORKERS = 1  # the stub's queue is ordered
    real_build = collect_module.clients_build

    def build(**kwargs):
        clients = real_build(**kwargs)
        for region, client in clients.secrets.items():
            real = boto3.client("secretsmanager", region_name=region, endpoint_url=client.meta.endpoint_url)
            stub = Stubber(client)
            pages = [_clean(p) for p in real.get_paginator("list_secrets").paginate()]
            for page in pages:
                for item in page.get("SecretList", []):
                    if item["Name"] in accessed:
                        item["LastAccessedDate"] = accessed[item["Name"]]
                stub.add_response("list_secrets", page)
            for page in pages:
                for item in page.get("SecretList", []):
                    stub.add_response("get_resource_policy", _clean(real.get_resource_policy(SecretId=item["ARN"])),
                                      {"SecretId": item["ARN"]})
            stub.activate()
        return clients

    monkeypatch.setattr(collect_module, "clients_build", build)
