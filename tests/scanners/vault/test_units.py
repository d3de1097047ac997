"""Vault units (issue 13): a KV mount over BOTAUDIT_VAULT_KV_FANOUT_KEYS is walked by its own unit
(`kv:<mount>`, phase 0) and the `cluster` unit (phase 1) runs the rest; findings are the same as one
unit's; a kv unit that fails resolves nothing of its mount while the others reconcile theirs.

A server of this module's own (the session one is shared): the scenario, plus a large KV mount
`extra` and a small one `small`."""

import json
import secrets

import hvac
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from devtools.openbao import dev_server_start, dev_server_stop
from inventory.accounts import user_grant
from inventory.models import Connector, Credential
from scanners.models import Finding, ProbeRun
from scanners.selectors.runs import audit_run_wait
from scanners.services.audit import audit_run_in_process
from tests.helpers import free_port

from .scenario import CANARY, POLICIES, fleet_create, vault_seed

pytestmark = pytest.mark.django_db
NAME = "test-vault"
EXTRA = {  # top-level keys: team1/, misc/, alpha, beta (4)
    "team1/ledger-copy": {"bot": "ledger-bot"},
    "misc/orphan": {},
    "alpha": {"owner": "clean-token-bot"},
    "beta": {},
}
OLD = ["ledger", "a", "b", "c/d"]  # a KV version 1 mount, also large: ledger-bot declares old/ledger
# pay-bot may also read the copies of ledger-bot's secret in the large mounts `extra` and `old`
PAY_READER = POLICIES["payments-reader"] + '''
path "extra/data/team1/*" { capabilities = ["read"] }
path "old/ledger" { capabilities = ["read"] }
'''
DENY_PAYMENTS = '''
path "*" { capabilities = ["read", "list", "sudo"] }
path "secret/metadata/payments/*" { capabilities = ["deny"] }
path "secret/detailed-metadata/payments/*" { capabilities = ["deny"] }
'''


@pytest.fixture(scope="module")
def big_bao(tmp_path_factory):
    port, token = free_port(), "root-" + secrets.token_hex(8)
    proc = dev_server_start(port=port, root_token=token, log_path=tmp_path_factory.mktemp("bao-units") / "bao.log")
    try:
        url = f"http://127.0.0.1:{port}"
        client = hvac.Client(url=url, token=token)
        seeded = vault_seed(client)
        client.sys.create_or_update_acl_policy(name="payments-reader", policy=PAY_READER)
        client.sys.create_or_update_acl_policy(name="kv-deny-payments", policy=DENY_PAYMENTS)
        client.sys.enable_secrets_engine("kv", path="extra", options={"version": "2"})
        client.sys.enable_secrets_engine("kv", path="small", options={"version": "2"})
        for path, custom in EXTRA.items():
            _write(client, "extra", path, custom)
        _write(client, "small", "lonely", {})
        client.sys.enable_secrets_engine("kv", path="old", options={"version": "1"})
        for path in OLD:
            client.secrets.kv.v1.create_or_update_secret(path=path, secret={"v": CANARY}, mount_point="old")
        yield url, client, seeded
    finally:
        dev_server_stop(proc)


def _write(client, mount, path, custom):
    kv = client.secrets.kv.v2
    kv.create_or_update_secret(path=path, secret={"v": CANARY}, mount_point=mount)
    if custom:
        kv.update_metadata(path=path, custom_metadata=custom, mount_point=mount)


@pytest.fixture
def fleet(db, big_bao, monkeypatch, settings):
    url, client, _seeded = big_bao
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    monkeypatch.setenv("VAULT_TOKEN_TEST_VAULT", client.token)
    bots = fleet_create(url=url, kv_mounts=["secret", "extra", "small", "old"])
    Credential.objects.create(bot=bots["pay-bot"], name="gone-too", store="vault_kv", ref="extra/missing-two")
    Credential.objects.create(bot=bots["ledger-bot"], name="legacy", store="vault_kv", ref="old/ledger")
    settings.BOTAUDIT_VAULT_KV_FANOUT_KEYS = 4  # secret (5 top-level keys), extra and old (4); small has 1
    return Connector.objects.get(name=NAME)


def _units(run) -> dict[str, ProbeRun]:
    return {pr.unit: pr for pr in run.probe_runs.filter(kind="vault")}


def _seen(run) -> dict[str, tuple]:
    """Every vault finding the run saw: fingerprint -> what it says (a token's remaining TTL aside)."""
    found = Finding.objects.filter(check_id__startswith="vault.", last_probe_run__audit_run=run)
    return {f.fingerprint: (f.check_id, f.bot_id, f.severity, f.title,
                            {k: v for k, v in f.evidence.items() if k != "ttl_seconds"}) for f in found}


def _unowned(path) -> Finding:
    (finding,) = [f for f in Finding.objects.filter(check_id="vault.kv.unowned") if f.evidence["path"] == path]
    return finding


def test_a_large_mount_is_its_own_unit_and_the_findings_are_those_of_one_unit(fleet, settings):
    settings.BOTAUDIT_VAULT_KV_FANOUT_KEYS = 1000
    whole = audit_run_in_process(connector_names=[NAME])
    assert list(_units(whole)) == [""] and _units(whole)[""].status == "ok", _units(whole)[""].error
    expected = _seen(whole)

    settings.BOTAUDIT_VAULT_KV_FANOUT_KEYS = 4
    fanned = audit_run_in_process(connector_names=[NAME])
    units = _units(fanned)
    assert set(units) == {"kv:secret", "kv:extra", "kv:old", "cluster"}
    assert {u: (pr.status, pr.error) for u, pr in units.items()} == dict.fromkeys(units, ("ok", ""))
    assert units["kv:secret"].phase == units["kv:extra"].phase == units["kv:old"].phase < units["cluster"].phase
    assert units["kv:secret"].counts["kv_secrets"] == 6 and units["kv:extra"].counts["kv_secrets"] == 4
    assert units["cluster"].counts["kv_secrets"] == 1  # small/lonely
    assert fanned.status == "ok"
    assert _seen(fanned) == expected  # same checks, same fingerprints, same evidence
    assert not Finding.objects.filter(status="resolved").exists()  # the whole connector's findings moved
    # each finding is owned by the unit that saw it: a mount's KV checks by its kv unit
    scope = {u: pr.scope for u, pr in units.items()}
    assert _unowned("extra/misc/orphan").scope == scope["kv:extra"]
    assert _unowned("secret/misc/orphaned").scope == scope["kv:secret"]
    assert _unowned("small/lonely").scope == scope["cluster"]
    kv_checks = {"vault.kv.unowned", "vault.kv.not_rotated", "vault.inventory.missing"}
    for unit in ("kv:secret", "kv:extra", "kv:old"):  # one mount: the cluster-wide checks say nothing there
        assert set(Finding.objects.filter(scope=scope[unit]).values_list("check_id", flat=True)) <= kv_checks
    missing = {f.evidence["ref"]: f.scope for f in Finding.objects.filter(check_id="vault.inventory.missing")}
    assert missing == {"extra/missing-two": scope["kv:extra"], "secret/payments/missing-one": scope["kv:secret"],
                       "ghost-role": scope["cluster"]}
    # the access checks saw the kv units' secrets: pay-bot reads ledger-bot's secret in three mounts
    reads = Finding.objects.get(check_id="vault.policy.reads_other_bots_secrets", bot__name="pay-bot")
    assert reads.scope == scope["cluster"]
    assert reads.evidence["secrets"] == ["extra/team1/ledger-copy", "old/ledger", "secret/payments/ledger"]
    assert units["kv:old"].facts["kv_owned"] == [["ledger", 1, {}]]
    # a kv unit publishes the paths of the secrets that belong to a bot, never a value
    published = units["kv:extra"].facts["kv_owned"]
    assert published == [["alpha", 2, {"owner": "clean-token-bot"}], ["team1/ledger-copy", 2, {"bot": "ledger-bot"}]]
    assert CANARY not in json.dumps([pr.facts for pr in units.values()])

    settings.BOTAUDIT_VAULT_KV_FANOUT_KEYS = 1000  # small again: one unit, the same findings, nothing lost
    again = audit_run_in_process(connector_names=[NAME])
    assert list(_units(again)) == [""] and again.status == "ok"
    assert _seen(again) == expected
    assert not Finding.objects.filter(status="resolved").exists()
    assert set(Finding.objects.filter(check_id__startswith="vault.").values_list("scope", flat=True)) == {
        f"connector:{fleet.pk}"}


def test_a_partial_kv_unit_resolves_nothing_of_its_mount_while_other_mounts_reconcile(fleet, big_bao, monkeypatch):
    _url, root, _seeded = big_bao
    paths = {"secret": "misc/gone-soon", "extra": "misc/gone-soon", "small": "gone-soon"}
    for mount, path in paths.items():
        _write(root, mount, path, {})
    audit_run_in_process(connector_names=[NAME])
    gone = {mount: _unowned(f"{mount}/{path}") for mount, path in paths.items()}
    assert {f.status for f in gone.values()} == {"open"}
    for mount, path in paths.items():
        root.secrets.kv.v2.delete_metadata_and_all_versions(path, mount_point=mount)
    limited = root.auth.token.create(policies=["kv-deny-payments"], ttl="1h")["auth"]
    monkeypatch.setenv("VAULT_TOKEN_TEST_VAULT", limited["client_token"])
    try:
        run = audit_run_in_process(connector_names=[NAME])
    finally:
        root.auth.token.revoke_accessor(limited["accessor"])
    units = _units(run)
    assert units["kv:secret"].status == "partial"
    assert "kv: permission denied on LIST secret/metadata/payments/" in units["kv:secret"].error
    assert units["kv:extra"].status == "ok"
    assert units["cluster"].status == "partial"
    assert "unit kv:secret is partial" in units["cluster"].error
    assert run.status == "partial" and run.finished
    for finding in gone.values():
        finding.refresh_from_db()
    assert gone["extra"].status == "resolved"  # its unit succeeded: it reconciles its mount
    assert gone["secret"].status == "open"  # its unit is partial: nothing of that mount resolved
    assert gone["small"].status == "open"  # the cluster unit is partial too
    # what the partial units still saw, they checked
    assert Finding.objects.filter(check_id="vault.kv.unowned", last_probe_run=units["kv:secret"]).exists()
    assert Finding.objects.get(check_id="vault.policy.reads_other_bots_secrets", bot__name="pay-bot").status == "open"


def test_a_failed_kv_unit_keeps_its_findings_open(fleet, big_bao, monkeypatch):
    _url, root, _seeded = big_bao
    _write(root, "extra", "misc/gone-later", {})
    audit_run_in_process(connector_names=[NAME])
    gone = _unowned("extra/misc/gone-later")
    root.secrets.kv.v2.delete_metadata_and_all_versions("misc/gone-later", mount_point="extra")

    def revoke_for_kv_extra(probe_run):  # the token loses its access while that unit runs
        token = "not-a-real-token" if probe_run.unit == "kv:extra" else root.token
        monkeypatch.setenv("VAULT_TOKEN_TEST_VAULT", token)

    run = audit_run_in_process(connector_names=[NAME], progress=revoke_for_kv_extra)
    units = _units(run)
    assert units["kv:extra"].status == "failed" and "token was rejected" in units["kv:extra"].error
    assert units["kv:secret"].status == "ok"
    assert units["cluster"].status == "partial" and "unit kv:extra is failed" in units["cluster"].error
    gone.refresh_from_db()
    assert gone.status == "open"
    assert not ProbeRun.objects.filter(audit_run=run, status__in=["pending", "running"]).exists()


def test_the_runs_page_shows_the_kv_units_and_no_page_loads_their_facts(fleet, client):
    run = audit_run_in_process(connector_names=[NAME])
    user, _ = user_grant(email="aud@example.com", role="auditor", password="correct horse battery staple")
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/runs/").content.decode()
    assert f"<strong>{NAME}</strong> (vault) · 4 units:" in html
    for unit in ("kv:secret", "kv:extra", "kv:old", "cluster"):
        assert f'<span class="unit">{unit}</span>' in html
    assert not [q["sql"] for q in queries if '"scanners_proberun"."facts"' in q["sql"]]
    admin, _ = user_grant(email="adm@example.com", role="admin", password="correct horse battery staple")
    client.force_login(admin)
    kv_unit = run.probe_runs.get(unit="kv:extra")
    page = client.get(f"/admin/scanners/proberun/{kv_unit.pk}/change/").content.decode()
    assert "kv_owned (2)" in page and "ledger-copy" not in page


def test_unreachable_vault_is_one_failed_unit_with_that_said(fleet):
    fleet.options = {**fleet.options, "url": f"http://127.0.0.1:{free_port()}"}
    fleet.save()
    run = audit_run_in_process(connector_names=[NAME])
    (unit,) = run.probe_runs.filter(kind="vault")
    assert unit.unit == "" and unit.status == "failed" and "unreachable" in unit.error
    assert run.finished and not ProbeRun.objects.filter(audit_run=run, status__in=["pending", "running"]).exists()


def test_sealed_vault_is_one_failed_unit_with_that_said(db, tmp_path, monkeypatch, settings):
    settings.BOTAUDIT_VAULT_KV_FANOUT_KEYS = 1
    port, token = free_port(), "root-" + secrets.token_hex(6)
    proc = dev_server_start(port=port, root_token=token, log_path=tmp_path / "bao.log")
    try:
        monkeypatch.setenv("VAULT_TOKEN", token)
        url = f"http://127.0.0.1:{port}"
        Connector.objects.create(name="sealed", kind="vault", options={"url": url})
        client = hvac.Client(url=url, token=token)
        client.secrets.kv.v2.create_or_update_secret(path="a", secret={"v": "x"}, mount_point="secret")
        client.sys.seal()
        run = audit_run_in_process(connector_names=["sealed"])
    finally:
        dev_server_stop(proc)
    (unit,) = run.probe_runs.filter(kind="vault")
    assert unit.unit == "" and unit.status == "failed" and "sealed" in unit.error
    assert run.finished and not ProbeRun.objects.filter(audit_run=run, status__in=["pending", "running"]).exists()


@pytest.mark.django_db(transaction=True)
def test_through_a_real_worker_the_cluster_unit_starts_after_its_kv_units_finished(celery_worker, fleet):
    from scanners.tasks import audit_fleet

    run = audit_run_wait(audit_run_id=audit_fleet.delay(trigger="test").get(timeout=30), timeout=90)
    assert run is not None and run.status == "ok", list(run.probe_runs.values("unit", "status", "error"))
    units = _units(run)
    assert set(units) == {"kv:secret", "kv:extra", "kv:old", "cluster"}
    assert len({pr.task_id for pr in units.values()}) == 4  # one task each
    assert max(pr.finished for name, pr in units.items() if name != "cluster") <= units["cluster"].started
    reads = Finding.objects.get(check_id="vault.policy.reads_other_bots_secrets", bot__name="pay-bot")
    assert reads.evidence["secrets"] == ["extra/team1/ledger-copy", "old/ledger", "secret/payments/ledger"]


def test_every_unit_s_approle_login_is_revoked(fleet, big_bao, monkeypatch):
    _url, root, seeded = big_bao
    fleet.options = {**fleet.options, "auth": "approle"}
    fleet.save()
    monkeypatch.setenv("VAULT_ROLE_ID_TEST_VAULT", seeded["probe_role_id"])
    monkeypatch.setenv("VAULT_SECRET_ID_TEST_VAULT", seeded["probe_secret_id"])
    units = _units(audit_run_in_process(connector_names=[NAME]))
    # probe-limited lists secret/ only: the other mounts stay with the cluster, which says so
    assert set(units) == {"kv:secret", "cluster"} and units["kv:secret"].status == "ok", units["kv:secret"].error
    assert units["cluster"].status == "partial" and "kv: permission denied on LIST extra/metadata/" in (
        units["cluster"].error)
    token = root.auth.token  # neither the planning's login nor any unit's was left behind
    metas = [token.lookup_accessor(a)["data"]["meta"] or {} for a in token.list_accessors()["data"]["keys"]]
    assert not [m for m in metas if m.get("role_name") == "botaudit-probe"]
