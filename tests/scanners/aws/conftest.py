"""moto's HTTP server on a loopback port, fake credentials, and a small seeded account."""

import json
import logging

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from inventory.models import Connector
from tests.helpers import free_port

logging.getLogger("werkzeug").setLevel(logging.WARNING)

ACCOUNT = "123456789012"
REGION = "us-east-1"


@pytest.fixture(scope="session")
def moto_url():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws(moto_url, monkeypatch, tmp_path):
    """Fake credentials only (moto accepts any), a fresh moto state, seeding clients."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    yield Seeder(moto_url)
    requests.post(f"{moto_url}/moto-api/reset-auth", data=b"inf", timeout=10)


def _doc(statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class Seeder:
    def __init__(self, url, session=None, region=REGION):
        """`session`: seed another account (a boto3 session of a role assumed in it)."""
        self.url = url
        session = session or boto3.session.Session()
        self.iam = session.client("iam", endpoint_url=url, region_name=REGION)
        self.sm = session.client("secretsmanager", endpoint_url=url, region_name=region)

    def role(self, name, statements=(), trust=None, tags=None):
        trust = trust or {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
        arn = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust),
                                   Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])["Role"]["Arn"]
        if statements:
            self.iam.put_role_policy(RoleName=name, PolicyName=f"{name}-inline",
                                     PolicyDocument=_doc(statements))
        return arn

    def user(self, name, statements=(), keys=0, tags=None):
        arn = self.iam.create_user(UserName=name, Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])[
            "User"]["Arn"]
        if statements:
            self.iam.put_user_policy(UserName=name, PolicyName=f"{name}-inline",
                                     PolicyDocument=_doc(statements))
        made = [self.iam.create_access_key(UserName=name)["AccessKey"] for _ in range(keys)]
        return arn, made

    def secret(self, name, value="not-a-real-value", tags=None, policy=None, rotate_days=None):
        arn = self.sm.create_secret(Name=name, SecretString=value,
                                    Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])["ARN"]
        if policy:
            self.sm.put_resource_policy(SecretId=arn, ResourcePolicy=json.dumps(policy))
        if rotate_days:
            self.sm.rotate_secret(SecretId=arn, RotationRules={"AutomaticallyAfterDays": rotate_days})
        return arn

    def enforce_auth_as(self, name, statements):
        """Make moto enforce IAM for requests signed with a new user's key (the probe's identity)."""
        _, (key,) = self.user(name, statements, keys=1)
        requests.post(f"{self.url}/moto-api/reset-auth", data=b"0", timeout=10).raise_for_status()
        return key


@pytest.fixture
def aws_connector(db, aws):
    return Connector.objects.create(name="aws-test", kind="aws",
                                    options={"regions": [REGION], "endpoint_url": aws.url})
