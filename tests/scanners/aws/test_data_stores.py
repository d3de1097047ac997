"""Fast lane: aws.policy.data_exfiltration on other bots' data stores (S3 objects and buckets, SSM
parameters, DynamoDB tables, KMS keys named by inventory credential refs), on hand-built principals."""

from types import SimpleNamespace

import pytest

from scanners.aws import checks_categories
from scanners.aws.data_stores import data_store_parse, data_stores_from_refs
from scanners.aws.model import AwsObservations, Principal
from scanners.aws.policy import statements_parse

pytestmark = pytest.mark.fast
ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
ME, PAYROLL, BILLING = 1, 2, 3
CTX = SimpleNamespace(fleet=SimpleNamespace(bots={ME: SimpleNamespace(name="me-bot"),
                                                  PAYROLL: SimpleNamespace(name="payroll-bot"),
                                                  BILLING: SimpleNamespace(name="billing-bot")}))
REFS = [
    ("arn:aws:s3:::me-data", ME),
    ("arn:aws:s3:::payroll-exports", PAYROLL),
    (f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/payroll/db-password", PAYROLL),
    (f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/payroll-ledger", PAYROLL),
    (f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1111-2222", BILLING),
    ("arn:aws:s3:::shared-reports", ME), ("arn:aws:s3:::shared-reports", BILLING),
    (f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/me/token", ME),
]


def principal(*statements, bot_id=ME, name="me-bot"):
    p = Principal(arn=f"arn:aws:iam::{ACCOUNT}:role/{name}", name=name, kind="role", bot_id=bot_id)
    p.statements = statements_parse({"Statement": list(statements)}, policy="inline:test")
    return p


def allow(actions, resource, **extra):
    return {"Effect": "Allow", "Action": actions, "Resource": resource, **extra}


def hits(*principals, refs=REFS, ctx=CTX):
    obs = AwsObservations(account_id=ACCOUNT, regions=("us-east-1",), principals=list(principals),
                          data_stores=data_stores_from_refs(refs, account_id=ACCOUNT))
    return list(checks_categories.policy_data_exfiltration(obs, ctx))


def test_refs_name_data_stores_of_this_account_only():
    assert data_store_parse("arn:aws:s3:::payroll-exports") == ("s3", ("arn:aws:s3:::payroll-exports/*",), None)
    assert data_store_parse("arn:aws:s3:::bkt/reports/*")[1] == ("arn:aws:s3:::bkt/reports/*",)
    assert data_store_parse(f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/payroll")[0] == "kms"
    for ref in (f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:x-AbCdEf", f"arn:aws:iam::{ACCOUNT}:role/r",
                "ref/payroll/db", "", "s3://bucket"):
        assert data_store_parse(ref) is None, ref
    stores = data_stores_from_refs([*REFS, (f"arn:aws:dynamodb:us-east-1:{OTHER_ACCOUNT}:table/t", PAYROLL)],
                                   account_id=ACCOUNT)
    assert len(stores) == 7  # the other account's table is not this account's data store
    shared = next(s for s in stores if s.arn == "arn:aws:s3:::shared-reports")
    assert shared.bot_ids == {ME, BILLING}


def test_reads_of_other_bots_stores_through_named_resources():
    p = principal(allow("s3:GetObject", "arn:aws:s3:::*"),
                  allow("ssm:GetParametersByPath", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/*"),
                  allow(["dynamodb:Query", "dynamodb:PutItem"], f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/*"),
                  allow("kms:Decrypt", f"arn:aws:kms:*:{ACCOUNT}:key/*"))
    (hit,) = hits(p)
    assert hit.severity is None and hit.subject == p.arn and hit.bot_id == ME
    found = {o["resource"]: o for o in hit.evidence["other_bots"]}
    assert set(found) == {"arn:aws:s3:::payroll-exports",
                          f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/payroll/db-password",
                          f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/payroll-ledger",
                          f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1111-2222"}  # not its own, not the shared bucket
    assert hit.evidence["other_bots_count"] == 4
    assert found["arn:aws:s3:::payroll-exports"]["bots"] == ["payroll-bot"]
    assert found[f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/payroll-ledger"]["actions"] == ["dynamodb:query"]
    assert found[f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1111-2222"]["bots"] == ["billing-bot"]
    assert found["arn:aws:s3:::payroll-exports"]["statements"][0]["resource"] == ["arn:aws:s3:::*"]
    assert "actions" not in hit.evidence  # nothing on `*` itself


def test_least_privilege_principal_stays_clean():
    p = principal(allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::me-data/*"),
                  allow("s3:GetObject", "arn:aws:s3:::shared-reports/*"),  # shared with billing: also its own
                  allow("ssm:GetParameter", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/me/*"),
                  allow("s3:PutObject", "arn:aws:s3:::payroll-exports/*"))  # a write, not a read
    assert hits(p) == []


def test_a_deny_on_the_other_bots_store_removes_it():
    p = principal(allow("s3:GetObject", "arn:aws:s3:::*"),
                  {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::payroll-*"},
                  {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::payroll-exports/*"})
    assert hits(p) == []


def test_only_conditional_grants_are_one_step_lower():
    p = principal(allow("ssm:GetParameter", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/payroll/*",
                        Condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}}))
    (hit,) = hits(p)
    assert hit.severity == "medium" and hit.evidence["conditional"] is True
    assert hit.evidence["other_bots"][0]["conditional"] is True


def test_star_reads_are_one_finding_and_unowned_principals_only_the_star_half():
    star = principal(allow("s3:GetObject", "*"), allow("kms:Decrypt", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/*"))
    (hit,) = hits(star)
    assert hit.evidence["actions"] == ["s3:getobject"] and hit.severity is None
    assert [o["resource"] for o in hit.evidence["other_bots"]] == [f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1111-2222"]
    unowned = principal(allow("kms:Decrypt", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/*"), bot_id=None, name="x")
    assert hits(unowned) == []
    assert hits(principal(allow("s3:GetObject", "arn:aws:s3:::*")), refs=[]) == []
    assert len(hits(principal(allow("s3:GetObject", "arn:aws:s3:::*")), ctx=None)) == 1  # names optional
