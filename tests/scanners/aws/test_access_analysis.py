"""Fast lane: escalation methods, conditions and risk categories on hand-built principals (no
services, no database)."""

import pytest

from scanners.aws import checks_categories, checks_policy, checks_trust
from scanners.aws.escalation import escalations, methods, methods_load
from scanners.aws.model import AwsObservations, Principal
from scanners.aws.policy import statements_parse

ACCOUNT = "123456789012"
OUTSIDE = "999988887777"
POLICY_CHECKS = [*checks_policy.CHECKS[:4], *checks_categories.CHECKS]  # all but the fleet-aware ones


def principal(*statements, kind="role", name="bot", policies=None):
    p = Principal(arn=f"arn:aws:iam::{ACCOUNT}:{kind}/{name}", name=name, kind=kind)
    for pname, sts in (policies or {"test": statements}).items():
        p.statements += statements_parse({"Statement": list(sts)}, policy=pname)
    return p


def allow(actions, resource="*", sid=None, **extra):
    st = {"Effect": "Allow", "Action": actions, "Resource": resource, **extra}
    return {**st, "Sid": sid} if sid else st


def deny(actions, resource="*", **extra):
    return {"Effect": "Deny", "Action": actions, "Resource": resource, **extra}


def method_ids(p):
    return {m["id"] for m in escalations(p)}


def hits(check, *principals, trusted=()):
    obs = AwsObservations(account_id=ACCOUNT, regions=("us-east-1",), principals=list(principals),
                          trusted_accounts=frozenset(trusted))
    return list(check(obs, None))


# -- the catalogue ----------------------------------------------------------------------------

def test_catalogue_covers_rhino_cloudsplaining_and_pathfinding():
    ids = {m.id for m in methods()}
    assert len(ids) == len(methods()) >= 60
    rhino = {"CreateNewPolicyVersion", "SetExistingDefaultPolicyVersion", "CreateEC2WithExistingIP", "CreateAccessKey",
             "CreateLoginProfile", "UpdateLoginProfile", "AttachUserPolicy", "AttachGroupPolicy", "AttachRolePolicy",
             "PutUserPolicy", "PutGroupPolicy", "PutRolePolicy", "AddUserToGroup", "UpdateRolePolicyToAssumeIt",
             "PassExistingRoleToNewLambdaThenInvoke", "PassExistingRoleToNewLambdaThenTriggerWithExistingDynamo",
             "PassExistingRoleToNewGlueDevEndpoint", "UpdateExistingGlueDevEndpoint",
             "PassExistingRoleToCloudFormation", "PassExistingRoleToNewDataPipeline",
             "EditExistingLambdaFunctionWithRole", "PassExistingRoleToNewCodeStarProject"}
    assert rhino <= ids
    assert sum("pathfinding" in m.sources for m in methods()) >= 55
    for m in methods():
        assert m.explanation and m.reference.startswith("https://"), m.id
        assert ("iam:passrole" in m.actions) == (m.passes_to is not None), m.id


def test_a_bad_catalogue_names_the_method_and_the_action(tmp_path):
    bad = tmp_path / "m.toml"
    bad.write_text('[[method]]\nid = "Typo"\nactions = ["iam:createacceskey"]\nexplanation = "x"\nreference = "y"\n')
    with pytest.raises(ValueError, match=r"m.toml: method #1 \(Typo\): unknown IAM actions \['iam:createacceskey'\]"):
        methods_load(bad)
    bad.write_text('[[method]]\nid = "NoRef"\nactions = ["iam:createaccesskey"]\nexplanation = "x"\n')
    with pytest.raises(ValueError, match="NoRef.*missing 'reference'"):
        methods_load(bad)


# -- escalation methods -----------------------------------------------------------------------

def test_a_role_that_can_attach_any_policy_to_itself_escalates_without_assume_role():
    p = principal(allow("iam:AttachRolePolicy", sid="Attach"))
    found = {m["id"]: m for m in escalations(p)}
    assert {"AttachRolePolicy", "AttachRolePolicyToSelf"} <= set(found)
    assert found["AttachRolePolicyToSelf"]["statements"][0]["statement"] == "Attach"
    assert found["AttachRolePolicy"]["reference"] == "https://pathfinding.cloud/paths/iam-009"
    assert not found["AttachRolePolicy"]["conditional"]


def test_update_assume_role_policy_alone_and_the_ecs_run_task_path():
    assert "UpdateRolePolicyToAssumeIt" in method_ids(principal(allow("iam:UpdateAssumeRolePolicy")))
    ecs = principal(allow(["iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:RunTask"]))
    assert "PassExistingRoleToNewECSTaskViaRunTask" in method_ids(ecs)
    assert "PassExistingRoleToNewECSTaskViaRunTask" not in method_ids(
        principal(allow(["ecs:RegisterTaskDefinition", "ecs:RunTask"])))


def test_methods_need_every_action_on_every_resource_of_its_kind():
    self_service = principal(allow(["iam:CreateAccessKey", "iam:DeleteAccessKey"],
                                   f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"), kind="user")
    assert method_ids(self_service) == set()
    all_users = principal(allow("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/*"), kind="user")
    assert "CreateAccessKey" in method_ids(all_users)
    one_role = principal(allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"],
                               f"arn:aws:iam::{ACCOUNT}:role/one"))
    assert method_ids(one_role) == set()


def test_self_modification_counts_only_for_the_principal_itself():
    me = principal(allow("iam:PutUserPolicy", f"arn:aws:iam::{ACCOUNT}:user/bot"), kind="user")
    assert method_ids(me) == {"PutUserPolicyToSelf"}
    other = principal(allow("iam:PutUserPolicy", f"arn:aws:iam::{ACCOUNT}:user/someone-else"), kind="user")
    assert method_ids(other) == set()


def test_cross_policy_deny_removes_a_method_but_a_scoped_deny_does_not():
    split = principal(policies={"a": [allow(["iam:PassRole", "ec2:RunInstances"])],
                                "b": [deny("ec2:RunInstances")]})
    assert "CreateEC2WithExistingIP" not in method_ids(split)
    scoped = principal(policies={"a": [allow(["iam:PassRole", "ec2:RunInstances"])],
                                 "b": [deny("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/admin")]})
    assert "CreateEC2WithExistingIP" in method_ids(scoped)
    every_role = principal(policies={"a": [allow(["iam:PassRole", "ec2:RunInstances"])],
                                     "b": [deny("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/*")]})
    assert "CreateEC2WithExistingIP" not in method_ids(every_role)


def test_notaction_and_notresource_grant_methods():
    not_action = principal({"Effect": "Allow", "NotAction": ["s3:*"], "Resource": "*"})
    assert {"CreateAccessKey", "CreateNewPolicyVersion"} <= method_ids(not_action)
    not_resource = principal({"Effect": "Allow", "Action": "iam:UpdateAssumeRolePolicy",
                              "NotResource": f"arn:aws:iam::{ACCOUNT}:role/admin"})
    assert "UpdateRolePolicyToAssumeIt" in method_ids(not_resource)


# -- conditions -------------------------------------------------------------------------------

LAMBDA_ONLY = {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}


def test_passed_to_service_still_allows_the_lambda_path_but_not_ec2():
    p = principal(allow("iam:PassRole", Condition=LAMBDA_ONLY, sid="PassToLambda"),
                  allow(["lambda:CreateFunction", "lambda:InvokeFunction", "ec2:RunInstances"]))
    found = {m["id"]: m for m in escalations(p)}
    assert "PassExistingRoleToNewLambdaThenInvoke" in found
    assert not found["PassExistingRoleToNewLambdaThenInvoke"]["conditional"]
    assert "CreateEC2WithExistingIP" not in found
    passing = [s for s in found["PassExistingRoleToNewLambdaThenInvoke"]["statements"]
               if s["statement"] == "PassToLambda"]
    assert passing[0]["passed_to_service"] == ["lambda.amazonaws.com"]
    (hit,) = hits(checks_policy.policy_privilege_escalation, p)
    assert hit.severity is None  # the check's own: high


def test_passed_to_service_grants_nothing_but_pass_role():
    p = principal(allow(["iam:PassRole", "iam:CreateAccessKey"], Condition=LAMBDA_ONLY))
    assert "iam:createaccesskey" not in p.permissions.unconstrained | p.permissions.conditional
    assert "iam:passrole" in p.permissions.unconstrained


def test_unevaluated_conditions_are_reported_as_conditional_one_step_lower():
    p = principal(allow("iam:CreateAccessKey", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}))
    (hit,) = hits(checks_policy.policy_privilege_escalation, p)
    assert hit.severity == "medium" and hit.evidence["conditional"] is True
    statement = hit.evidence["details"][0]["statements"][0]
    assert statement["condition"] == "conditional" and statement["unevaluated_keys"] == ["aws:requestedregion"]
    (cred,) = hits(checks_policy.policy_credentials_exposure, p)
    assert cred.severity == "medium" and cred.evidence["conditional"] is True


def test_mfa_keys_are_evaluated_for_bots():
    needs_mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    recent_mfa = {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}
    assert hits(checks_policy.policy_credentials_exposure,
                principal(allow("iam:CreateAccessKey", Condition=needs_mfa))) == []
    assert hits(checks_policy.policy_privilege_escalation,
                principal(allow("iam:CreateAccessKey", Condition=recent_mfa))) == []
    # "Bool false" does not match long-term access keys (no MFA key at all), only role sessions
    no_mfa_deny = deny("iam:*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})
    as_role = principal(allow("*"), no_mfa_deny, kind="role")
    as_user = principal(allow("*"), no_mfa_deny, kind="user")
    assert "iam:createaccesskey" not in as_role.permissions.unconstrained
    assert "iam:createaccesskey" in as_user.permissions.unconstrained
    if_exists = deny("iam:*", Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})
    assert "iam:createaccesskey" not in principal(allow("*"), if_exists, kind="user").permissions.unconstrained


def test_org_and_network_conditions():
    org = principal(allow("ec2:GetPasswordData", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}))
    (hit,) = hits(checks_policy.policy_credentials_exposure, org)
    assert hit.severity is None and "ec2:getpassworddata" in hit.evidence["actions"]
    anywhere = principal(allow("s3:GetObject", Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}))
    (hit,) = hits(checks_categories.policy_data_exfiltration, anywhere)
    assert hit.severity is None
    office = principal(allow("s3:GetObject", Condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}}))
    (hit,) = hits(checks_categories.policy_data_exfiltration, office)
    assert hit.severity == "medium" and hit.evidence["statements"][0]["networks"] == ["10.0.0.0/8"]
    vpc = principal(allow("s3:GetObject", Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}}))
    assert hits(checks_categories.policy_data_exfiltration, vpc)[0].evidence["statements"][0]["condition"] == "network"


# -- categories -------------------------------------------------------------------------------

def test_data_exfiltration_resource_exposure_and_infrastructure_modification():
    p = principal(allow(["s3:GetObject", "kms:Decrypt", "s3:PutBucketPolicy", "ec2:TerminateInstances",
                         "rds:DeleteDBInstance", "ec2:RunInstances"]))
    (data,) = hits(checks_categories.policy_data_exfiltration, p)
    assert data.evidence["actions"] == ["kms:decrypt", "s3:getobject"]
    (exposure,) = hits(checks_categories.policy_resource_exposure, p)
    assert exposure.evidence["actions"] == ["s3:putbucketpolicy"]
    (infra,) = hits(checks_categories.policy_infrastructure_modification, p)
    assert infra.evidence["by_service"]["ec2"] == {"count": 2, "examples": ["ec2:runinstances",
                                                                           "ec2:terminateinstances"]}
    assert set(infra.evidence["by_service"]) == {"ec2", "rds"}  # kms:Decrypt is a read, s3:PutBucketPolicy exposure


def test_scoped_reads_and_pass_role_are_not_exposure():
    p = principal(allow("s3:GetObject", "arn:aws:s3:::my-bucket/*"), allow("ssm:GetParameter",
                  f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/bot/*"), allow("iam:PassRole"))
    assert hits(checks_categories.policy_data_exfiltration, p) == []
    assert hits(checks_categories.policy_resource_exposure, p) == []
    assert hits(checks_categories.policy_infrastructure_modification, p) == []


def test_get_password_data_is_credentials_exposure():
    (hit,) = hits(checks_policy.policy_credentials_exposure, principal(allow("ec2:GetPasswordData")))
    assert hit.evidence["actions"] == ["ec2:getpassworddata"]


def test_a_least_privilege_principal_is_clean_everywhere():
    clean = principal(
        allow(["secretsmanager:GetSecretValue"], f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:bot/*"),
        allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::bot-bucket/*"),
        allow(["iam:CreateAccessKey", "iam:DeleteAccessKey"], f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"),
        allow(["iam:PassRole"], f"arn:aws:iam::{ACCOUNT}:role/bot-worker", Condition=LAMBDA_ONLY),
        allow(["ec2:DescribeInstances", "sts:GetCallerIdentity"]), kind="user")
    for check in POLICY_CHECKS:
        assert hits(check, clean) == [], check.id


# -- trust ------------------------------------------------------------------------------------

def role_trusting(principal_value, condition=None):
    st = {"Effect": "Allow", "Principal": principal_value, "Action": "sts:AssumeRole"}
    if condition:
        st["Condition"] = condition
    p = principal()
    p.trust = {"Statement": [st]}
    return p


EXTERNAL = {"StringEquals": {"sts:ExternalId": "partner-123"}}


def test_cross_account_trust_severity_and_trusted_accounts():
    (hit,) = hits(checks_trust.role_trust_cross_account, role_trusting({"AWS": f"arn:aws:iam::{OUTSIDE}:root"}))
    assert hit.severity is None and hit.evidence["accounts"] == [OUTSIDE]
    (guarded,) = hits(checks_trust.role_trust_cross_account, role_trusting({"AWS": OUTSIDE}, EXTERNAL))
    assert guarded.severity == "medium" and guarded.evidence["external_id_required"] is True
    assert hits(checks_trust.role_trust_cross_account, role_trusting({"AWS": OUTSIDE}), trusted=[OUTSIDE]) == []
    assert hits(checks_trust.role_trust_cross_account, role_trusting({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})) == []
    assert hits(checks_trust.role_trust_cross_account, role_trusting({"Service": "lambda.amazonaws.com"})) == []
    org = {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}
    assert hits(checks_trust.role_trust_cross_account, role_trusting({"AWS": OUTSIDE}, org)) == []


def test_any_principal_behind_only_an_external_id_is_reported():
    (hit,) = hits(checks_trust.role_trust_cross_account, role_trusting({"AWS": "*"}, EXTERNAL))
    assert hit.severity is None and hit.evidence["any_principal_behind_external_id"] is True
    org = {"StringEquals": {"aws:PrincipalOrgID": "o-abc", "sts:ExternalId": "x"}}
    assert hits(checks_trust.role_trust_cross_account, role_trusting("*", org)) == []
