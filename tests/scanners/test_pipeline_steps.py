"""The pipeline's steps: one commit for findings, status, counts and reconcile (a crash in between
leaves no `ok` run and no half-written findings); the after-commit hook runs only after that commit;
facts from other probes reach checks through the context, loaded before checks run."""

import pytest

import scanners.services.audit as audit_service
from inventory.models import Connector
from scanners.context import ProbeContext, facts_load
from scanners.git.checks import leaked_active_aws_key
from scanners.models import AuditRun, Finding, ProbeRun
from scanners.registry import Collected
from scanners.services.audit import audit_run_in_process
from tests.scanners import conftest as probe_conftest

pytestmark = pytest.mark.django_db


def _collect_with_hook(calls):
    def collect(connector, ctx):
        observations = list(probe_conftest.BEHAVIOUR.subjects)
        return Collected(observations=observations, after_commit=lambda: calls.append(
            (ProbeRun.objects.get(pk=ctx.probe_run.pk).status, Finding.objects.count())))
    return collect


def test_after_commit_runs_once_the_findings_and_status_are_committed(test_connector, test_probe, make_bot):
    from scanners import registry

    calls = []

    kind = registry.get("testprobe")
    registry.register(registry.ProbeKind(kind="testprobe", collect=_collect_with_hook(calls), checks=kind.checks))
    test_probe.subjects = [("seen", make_bot("hook-bot").pk)]
    audit_run_in_process(connector_names=["test-conn"])
    assert calls == [("ok", 1)]  # the hook saw the committed status and finding


def test_a_crash_in_reconcile_leaves_no_ok_run_no_findings_and_no_after_commit(test_connector, test_probe, make_bot,
                                                                              monkeypatch):
    from scanners import registry

    calls = []
    kind = registry.get("testprobe")
    registry.register(registry.ProbeKind(kind="testprobe", collect=_collect_with_hook(calls), checks=kind.checks))
    test_probe.subjects = [("new-one", make_bot("crash-bot").pk)]

    def crash(**kwargs):
        raise RuntimeError("crashed between upsert and reconcile")

    monkeypatch.setattr(audit_service, "findings_reconcile", crash)
    run = audit_run_in_process(connector_names=["test-conn"])
    probe = run.probe_runs.get(kind="testprobe")
    assert probe.status == "failed" and "crashed between upsert and reconcile" in probe.error
    assert not Finding.objects.filter(subject="new-one").exists()  # the upsert was rolled back with it
    assert probe.counts == {} and calls == []


def test_git_scan_state_is_not_saved_when_the_commit_fails(db, make_bot, tmp_path, monkeypatch):
    from inventory.models import Repository
    from scanners.git.models import GitScanState
    from tests.scanners.git.gitrepo import Repo, github_pat

    repo = Repo(tmp_path / "r")
    Repository.objects.create(name="r", url=str(repo.path), branches=["*"])
    Connector.objects.create(name="git", kind="git", options={"repositories": ["*"]})
    repo.commit({"app.py": f"T = '{github_pat()}'\n"})

    def crash(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(audit_service, "findings_upsert", crash)
    audit_run_in_process(connector_names=["git"])
    assert not GitScanState.objects.exclude(tips={}).exists()  # the next run scans this history again
    monkeypatch.undo()
    probe = audit_run_in_process(connector_names=["git"]).probe_runs.get(kind="git")
    assert probe.status == "ok" and probe.counts["commits"] == 1 and probe.counts["findings"] == 1
    assert GitScanState.objects.get().tips  # saved now that the findings are committed


def _aws_probe(connector, run, facts, status="ok"):
    return ProbeRun.objects.create(audit_run=run, connector=connector, kind="aws", scope=f"connector:{connector.pk}",
                                   status=status, facts=facts, finished=run.started)


def test_facts_come_from_the_same_audit_run_else_the_latest_successful_one(db):
    east = Connector.objects.create(name="east", kind="aws")
    west = Connector.objects.create(name="west", kind="aws")
    older, current = AuditRun.objects.create(), AuditRun.objects.create()
    _aws_probe(east, older, {"active_access_keys": {"fp-old": {"user": "old"}}})
    _aws_probe(west, older, {"active_access_keys": {"fp-west": {"user": "w"}}})
    _aws_probe(east, current, {"active_access_keys": {"fp-new": {"user": "new"}}})
    _aws_probe(west, current, {"active_access_keys": {"fp-failed": {}}}, status="failed")

    facts = facts_load(kinds=("aws",), audit_run_id=current.pk)
    # east: this run's probe; west: this run's failed, so its latest successful one; merged.
    ctx = ProbeContext(fleet=None, now=None, facts=facts)
    assert ctx.facts_for("aws") == {"active_access_keys": {"fp-new": {"user": "new"}, "fp-west": {"user": "w"}}}
    assert facts_load(kinds=(), audit_run_id=current.pk) == {}


def test_checks_read_facts_from_the_context_without_a_query(django_assert_num_queries):
    from scanners.context import Fleet
    from scanners.git.leaks import LeakLocation, SecretLeak

    loc = LeakLocation(repository_id=1, repository="repo", rule_id="aws-access-token", file="a.sh", line=1,
                       commit="c" * 40, commit_date="", first_seen="", still_at_head=True, confidence="high",
                       reasons=(), redacted="AKIA\u2026(20)")
    ctx = ProbeContext(fleet=Fleet(bots={}, credentials=[], identities=[]), now=None,
                       facts={"aws": {"active_access_keys": {"fp-active": {"bot_id": None, "user": "u"}}}})
    with django_assert_num_queries(0):
        hits = list(leaked_active_aws_key([SecretLeak(secret_fingerprint="fp-active", locations=(loc,))], ctx))
    assert len(hits) == 1 and hits[0].evidence["iam_user"] == "u"
