import json
from collections import defaultdict
from datetime import timedelta

import pytest
from freezegun import freeze_time

from inventory.models import Credential
from scanners.models import Finding, ProbeRun
from scanners.redaction import redact, secret_fingerprint
from scanners.services.audit import audit_run_in_process
from tests.helpers import units_view

from . import scenario
from .stubs import stub_last_accessed


@pytest.fixture
def account(aws, aws_connector, make_bot, make_credential, monkeypatch, settings):
    seeded = scenario.seed(aws, make_bot, make_credential)
    stub_last_accessed(monkeypatch, settings, {"clean/db": scenario.NOW - timedelta(days=2)})
    return seeded


def _aws_probe(run):
    return units_view(run, kind="aws")


def test_every_check_fires_on_its_subject_and_clean_principals_stay_clean(account):
    with freeze_time(scenario.NOW):
        run = audit_run_in_process(connector_names=["aws-test"])
    probe = _aws_probe(run)
    assert probe.status == ProbeRun.Status.OK, probe.error
    found = defaultdict(set)
    for f in Finding.objects.filter(scope__in=probe.scopes):
        found[f.check_id].add(f.subject)
    want = scenario.expected(account)
    legacy_keys = found.pop("aws.key.stale"), found.pop("aws.key.unused")
    want.pop("aws.key.stale"), want.pop("aws.key.unused")
    assert dict(found) == want
    for subjects in legacy_keys:
        assert len(subjects) == 2 and all(s.startswith(scenario.iam_arn("user", "legacy-bot")) for s in subjects)
    for clean in (account["clean_role"], account["clean_secret"], account["deny_role"]):
        assert not Finding.objects.filter(subject=clean).exists(), clean
    assert {f.evidence.get("account") for f in Finding.objects.filter(scope__in=probe.scopes)} == {scenario.ACCOUNT}


def test_findings_are_attributed_and_severity_escalates(account):
    with freeze_time(scenario.NOW):
        audit_run_in_process(connector_names=["aws-test"])
    bots = account["bots"]
    assert Finding.objects.get(check_id="aws.policy.admin").bot == bots["admin-bot"]
    assert Finding.objects.get(check_id="aws.role.trust_any_principal").bot == bots["tagged-bot"]  # by tag
    assert Finding.objects.get(check_id="aws.secret.public_policy").bot == bots["tagged-bot"]
    assert Finding.objects.get(check_id="aws.secret.rotation_disabled").bot == bots["admin-bot"]  # ref w/o suffix
    assert Finding.objects.filter(check_id="aws.inventory.unowned", bot=None).count() == 2
    stale = {f.evidence["age_days"]: f.severity for f in Finding.objects.filter(check_id="aws.key.stale")}
    assert stale == {200: "high", 100: "medium"}
    evidence = Finding.objects.get(check_id="aws.policy.reads_other_bots_secrets",
                                   subject=account["reader_role"]).evidence
    assert evidence["secrets"][0]["bot"] == "clean-bot"
    assert evidence["secrets"][0]["statements"][0]["statement"] == "ReadClean"


def test_facts_and_credential_dates(account):
    with freeze_time(scenario.NOW):
        run = audit_run_in_process(connector_names=["aws-test"])
    probe = _aws_probe(run)
    keys = probe.facts["active_access_keys"]
    legacy_ids = [k["AccessKeyId"] for k in account["legacy_keys"]]
    assert set(keys) == {secret_fingerprint(k) for k in legacy_ids}
    for key_id in legacy_ids:
        assert keys[secret_fingerprint(key_id)] == {
            "bot_id": account["bots"]["legacy-bot"].pk, "user": scenario.iam_arn("user", "legacy-bot"),
            "redacted": redact(key_id), "account": scenario.ACCOUNT}
    clean = Credential.objects.get(pk=account["clean_cred"].pk)
    assert clean.last_used_at == scenario.NOW - timedelta(days=2)
    assert clean.created_at.date() == (scenario.NOW - timedelta(days=5)).date()
    admin = Credential.objects.get(pk=account["admin_cred"].pk)
    assert admin.created_at.date() == (scenario.NOW - timedelta(days=200)).date()
    assert admin.last_used_at is None and admin.observed_at is not None
    assert probe.api_calls > 0 and probe.counts["api_calls_by_operation"]["GetAccountAuthorizationDetails"] == 1


def test_no_secret_value_or_key_id_in_any_output(account, capsys, caplog):
    from django.core.management import call_command

    with freeze_time(scenario.NOW):
        run = audit_run_in_process(connector_names=["aws-test"])
        call_command("findings", "--format", "json")
        call_command("findings", "--format", "csv")
    probe = _aws_probe(run)
    outputs = [list(Finding.objects.values()), probe.facts, probe.counts, probe.error]
    dumped = json.dumps(outputs, default=str, ensure_ascii=False)
    dumped += capsys.readouterr().out + caplog.text
    secret_keys = [k["SecretAccessKey"] for k in account["legacy_keys"]]
    for needle in [scenario.CANARY, *[k["AccessKeyId"] for k in account["legacy_keys"]], *secret_keys]:
        assert needle not in dumped
    assert redact(account["legacy_keys"][0]["AccessKeyId"]) in dumped  # the preview is what we keep


def test_units_find_exactly_what_the_whole_connector_finds(account, aws_connector):
    from .org_scenario import units_run

    def active():
        return {(f.check_id, f.subject, f.bot_id) for f in Finding.objects.filter(status="open")}

    with freeze_time(scenario.NOW):
        audit_run_in_process(connector_names=["aws-test"])
        whole = active()
        Finding.objects.all().delete()  # (moving findings of the connector's scope into unit scopes is the pipeline's)
        runs = units_run(aws_connector)
    assert sorted(runs) == [f"{scenario.ACCOUNT}/iam", f"{scenario.ACCOUNT}/{scenario.REGION}"]
    assert all(r.status == ProbeRun.Status.OK for r in runs.values()), {n: r.error for n, r in runs.items()}
    assert active() == whole and len(whole) > 20
    scopes = {f.scope for f in Finding.objects.filter(status="open")}
    assert scopes == {f"connector:{aws_connector.pk}:{name}" for name in runs}
    secrets_scope = f"connector:{aws_connector.pk}:{scenario.ACCOUNT}/{scenario.REGION}"
    for f in Finding.objects.filter(check_id__startswith="aws.secret."):
        assert f.scope == secrets_scope, f.check_id
    admin = Credential.objects.get(pk=account["admin_cred"].pk)
    assert admin.created_at.date() == (scenario.NOW - timedelta(days=200)).date()  # dated by the region unit
