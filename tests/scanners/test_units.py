"""Units of work (issue 13): one task per repository through a real Celery worker on Redis, reconcile
per unit, a failing repository that resolves nothing of its own, cross-repository leaks held by the
repository still recording them, phases ordering facts, queues per kind, planning errors."""

import json
import time
from io import StringIO

import pytest
from django.core.management import call_command

from inventory.models import Connector, Repository
from scanners import registry
from scanners.git.models import GitScanState
from scanners.models import AuditRun, Finding, ProbeRun
from scanners.redaction import secret_fingerprint
from scanners.registry import Collected, Hit, ProbeKind, Unit, check
from scanners.selectors.runs import audit_run_summary, audit_run_wait
from scanners.services.audit import audit_run_in_process
from tests.scanners.git.gitrepo import Repo, github_pat

LEAKED = "git.secret.leaked"


@pytest.fixture
def three_repos(db, make_bot, tmp_path):
    """alpha and beta share one secret; gamma has its own. alpha is owned by a bot."""
    shared, own = github_pat(), github_pat()
    repos = {name: Repo(tmp_path / name) for name in ("alpha", "beta", "gamma")}
    repos["alpha"].commit({"app.py": f"T = '{shared}'\n"})
    repos["beta"].commit({"ci.yml": f"token: {shared}\n"})
    repos["gamma"].commit({"run.sh": f"export T={own}\n"})
    for name, repo in repos.items():
        Repository.objects.create(name=name, url=str(repo.path), branches=["*"])
    make_bot("alpha-bot").repositories.add(Repository.objects.get(name="alpha"))
    Connector.objects.create(name="git", kind="git", options={"repositories": ["*"]})
    return repos, shared, own


def leak(secret, *, owned=False, open_only=False):
    """The one git.secret.leaked finding of `secret` (only those with a bot / only open ones)."""
    found = Finding.objects.filter(check_id=LEAKED)
    found = found.exclude(bot=None) if owned else found
    found = found.filter(status="open") if open_only else found
    (f,) = [f for f in found if f.evidence["secret_fingerprint"] == secret_fingerprint(secret)]
    return f


def _wait(run_id, timeout=60):
    run = audit_run_wait(audit_run_id=run_id, timeout=timeout)
    assert run, f"audit #{run_id} did not finish: {list(ProbeRun.objects.filter(audit_run_id=run_id).values())}"
    return run


@pytest.mark.django_db(transaction=True)
def test_units_fan_out_through_a_real_worker_and_a_failing_repository_resolves_nothing(
        celery_worker, three_repos, tmp_path):
    from scanners.tasks import audit_fleet

    _repos, shared, own = three_repos
    run = _wait(audit_fleet.delay(trigger="test").get(timeout=30))
    assert run.status == "ok"
    units = {pr.unit: pr for pr in run.probe_runs.filter(kind="git")}
    assert set(units) == {"alpha", "beta", "gamma"}  # one task (and ProbeRun) per repository
    assert {pr.scope for pr in units.values()} == {f"connector:{units['alpha'].connector_id}:{n}"
                                                     for n in ("alpha", "beta", "gamma")}
    assert all(pr.status == "ok" and pr.counts["repositories"] == 1 for pr in units.values())
    assert len({pr.task_id for pr in units.values()}) == 3
    assert {pr.phase for pr in run.probe_runs.all()} == {0}  # no aws connector audited: nothing to wait for
    assert leak(own).scope == units["gamma"].scope  # a finding carries the scope of the unit that saw it
    # alpha and beta ran in parallel: the one that ran before the other's records existed saw the
    # secret in its repository only, and beta alone (no owner) emits a botless finding for it. Both
    # see both from the next audit on, and the botless one is resolved there (see below).
    assert leak(shared, owned=True).evidence["repositories"] in (["alpha"], ["alpha", "beta"])

    # gamma is now a directory that is not a git repository: its unit fails, the others reconcile.
    not_git = tmp_path / "not-a-repo"
    not_git.mkdir()
    Repository.objects.filter(name="gamma").update(url=str(not_git))
    run2 = _wait(audit_fleet.delay(trigger="test").get(timeout=30))
    assert run2.status == "partial"
    units2 = {pr.unit: pr for pr in run2.probe_runs.filter(kind="git")}
    assert units2["gamma"].status == "failed" and "not a git repository" in units2["gamma"].error
    assert units2["alpha"].status == units2["beta"].status == "ok"
    assert leak(own).status == "open" and "resolved" not in units2["gamma"].counts  # resolved nothing of its own
    owned = leak(shared, owned=True)  # the others' results stay
    assert owned.status == "open" and owned.evidence["repositories"] == ["alpha", "beta"]
    assert leak(shared, open_only=True) == owned  # a botless one of the first audit's race is resolved
    summary = audit_run_summary(audit_run=run2)
    git_probes = {p["unit"]: p for p in summary["probes"] if p["kind"] == "git"}
    assert set(git_probes) == {"alpha", "beta", "gamma"}
    assert git_probes["gamma"]["status"] == "failed" and "not a git repository" in git_probes["gamma"]["error"]
    assert all(set(p) >= {"connector", "kind", "unit", "account", "status", "error"} for p in summary["probes"])


def test_a_leak_in_two_repositories_is_held_by_the_one_still_recording_it(three_repos, tmp_path):
    repos, shared, _own = three_repos
    Repository.objects.get(name="beta").bots.add(*Repository.objects.get(name="alpha").bots.all())  # one owner
    audit_run_in_process(connector_names=["git"])
    connector = Connector.objects.get(name="git")
    alpha_scope, beta_scope = f"connector:{connector.pk}:alpha", f"connector:{connector.pk}:beta"
    Finding.objects.filter(pk=leak(shared).pk).update(scope=alpha_scope)  # alpha saw it last
    # alpha's history is rewritten without the secret (a new repository, its scan state gone) and
    # beta cannot be read this time: beta still records the secret.
    Repository.objects.filter(name="alpha").update(url=str(Repo(tmp_path / "alpha-rewritten").path))
    Repo(tmp_path / "alpha-rewritten").commit({"app.py": "T = ''\n"})
    GitScanState.objects.filter(repository__name="alpha").delete()
    Repository.objects.filter(name="beta").update(url=str(tmp_path / "gone"))
    run = audit_run_in_process(connector_names=["git"])
    alpha = run.probe_runs.get(unit="alpha")
    assert alpha.status == "ok" and run.probe_runs.get(unit="beta").status == "failed"
    held = leak(shared)
    assert held.status == "open" and held.scope == beta_scope  # beta's unit owns it now
    assert alpha.counts["resolved"] == 0

    # beta is back and its secret is still there: still open, seen by beta.
    Repository.objects.filter(name="beta").update(url=str(repos["beta"].path))
    audit_run_in_process(connector_names=["git"])
    assert leak(shared).status == "open" and leak(shared).scope == beta_scope

    # beta is removed from the inventory (its records go with it): nothing holds it, it resolves.
    Repository.objects.filter(name="beta").delete()
    run = audit_run_in_process(connector_names=["git"])
    assert run.status == "ok", list(run.probe_runs.values("unit", "status", "error"))
    assert leak(shared).status == "resolved"


def test_a_repository_no_longer_planned_is_swept_once_every_unit_is_ok(three_repos):
    _repos, _shared, own = three_repos
    audit_run_in_process(connector_names=["git"])
    assert leak(own).status == "open"
    Connector.objects.filter(name="git").update(options={"repositories": ["alpha", "beta"]})
    run = audit_run_in_process(connector_names=["git"])
    assert sorted(run.probe_runs.filter(kind="git").values_list("unit", flat=True)) == ["alpha", "beta"]
    f = leak(own)
    assert f.status == "resolved" and "no longer audited" in f.status_reason


def test_findings_of_the_whole_connector_scope_move_to_units_or_are_swept(three_repos):
    """Findings recorded before units (scope `connector:<pk>`) move to the unit that sees them again."""
    _repos, shared, own = three_repos
    audit_run_in_process(connector_names=["git"])
    connector = Connector.objects.get(name="git")
    Finding.objects.update(scope=f"connector:{connector.pk}")
    audit_run_in_process(connector_names=["git"])
    assert leak(own).scope == f"connector:{connector.pk}:gamma" and leak(own).status == "open"
    assert leak(shared).status == "open"


# Phases: a kind reading another kind's facts runs after every unit of that kind.

SEEN: dict = {}


@check(id="factsrc.thing.seen", severity="low", category="hygiene", title="Fact source", remediation="None.",
       owasp="NHI7")
def _src_check(observations, ctx):
    return []


@check(id="factuse.thing.seen", severity="low", category="hygiene", title="Fact reader", remediation="None.",
       owasp="NHI7")
def _use_check(observations, ctx):
    SEEN[ctx.unit.name] = (ctx.facts_for("factsrc"), ctx.facts_for("factsrc", account="111111111111"))
    yield Hit(subject=f"factuse:{ctx.unit.name}")


def _src_collect(connector, ctx):
    time.sleep(0.5)
    return Collected(observations=[], api_calls=1, facts={"keys": {ctx.unit.name: ctx.unit.account}})


def _use_collect(connector, ctx):
    return Collected(observations=[], api_calls=1)


@pytest.fixture
def fact_kinds():
    SEEN.clear()
    registry.register(ProbeKind(kind="factsrc", collect=_src_collect, checks=[_src_check], plan=lambda c, ctx: [
        Unit(name=f"{acc}/{r}", account=acc, params={"region": r}) for acc in ("111111111111", "222222222222")
        for r in ("eu-west-1", "us-east-1")]))
    registry.register(ProbeKind(kind="factuse", collect=_use_collect, checks=[_use_check], uses_facts=("factsrc",),
                                plan=lambda c, ctx: [Unit(name=n) for n in ("one", "two")]))
    yield
    registry.unregister("factsrc")
    registry.unregister("factuse")


@pytest.mark.django_db(transaction=True)
def test_units_reading_facts_start_after_every_producing_unit_finished(celery_worker, fact_kinds):
    from scanners.tasks import audit_fleet

    Connector.objects.create(name="src", kind="factsrc")
    Connector.objects.create(name="use", kind="factuse")
    run = _wait(audit_fleet.delay(trigger="test").get(timeout=30))
    assert run.status == "ok"
    src = list(run.probe_runs.filter(kind="factsrc"))
    use = list(run.probe_runs.filter(kind="factuse"))
    assert len(src) == 4 and len(use) == 2
    assert run.probe_runs.get(kind="inventory").phase == 0
    assert {pr.phase for pr in src} == {0} and {pr.phase for pr in use} == {1}
    assert min(u.started for u in use) >= max(s.finished for s in src)  # the chord of phase 0 ended first
    assert {pr.account for pr in src} == {"111111111111", "222222222222"}
    every = {"keys": {pr.unit: pr.account for pr in src}}
    for name in ("one", "two"):
        merged, one_account = SEEN[name]
        assert merged == every  # facts of every unit of the kind, merged
        assert one_account == {"keys": {k: v for k, v in every["keys"].items() if v == "111111111111"}}


def test_a_planning_error_is_one_failed_unit_with_the_reason(db, fact_kinds):
    def broken(connector, ctx):
        raise registry.ProbeError("organizations:ListAccounts AccessDenied")

    kind = registry.get("factsrc")
    registry.register(ProbeKind(kind="factsrc", collect=kind.collect, checks=kind.checks, plan=broken))
    Connector.objects.create(name="src", kind="factsrc")
    Connector.objects.create(name="use", kind="factuse")
    run = audit_run_in_process()
    (failed,) = run.probe_runs.filter(kind="factsrc")
    assert failed.status == "failed" and failed.unit == "" and "planning failed" in failed.error
    assert "AccessDenied" in failed.error
    assert sorted(run.probe_runs.filter(kind="factuse").values_list("status", flat=True)) == ["ok", "ok"]
    assert run.status == "partial"


def test_audit_json_lists_every_unit(three_repos):
    out = StringIO()
    with pytest.raises(SystemExit):  # the audit is partial: gamma cannot be read
        Repository.objects.filter(name="gamma").update(url="/nonexistent/gamma")
        call_command("audit", "--json", stdout=out)
    data = json.loads(out.getvalue())
    git = sorted((p["connector"], p["kind"], p["unit"], p["status"]) for p in data["probes"] if p["kind"] == "git")
    assert git == [("git", "git", "alpha", "ok"), ("git", "git", "beta", "ok"), ("git", "git", "gamma", "failed")]
    assert [p["account"] for p in data["probes"]] == [None] * len(data["probes"])
    assert AuditRun.objects.get(pk=data["audit_run"]).planned


def test_each_unit_is_queued_on_its_kind_s_queue(settings):
    from scanners.tasks import probe_queue

    assert [probe_queue(k) for k in ("git", "aws", "vault", "inventory", "testprobe")] == [
        "probe.git", "probe.aws", "probe.vault", "audit", "audit"]
    queues = {q.name for q in settings.CELERY_TASK_QUEUES}
    assert {"audit", "probe.git", "probe.aws", "probe.vault", "digest"} <= queues
    assert settings.CELERY_TASK_ROUTES["botaudit.audit_fleet"] == {"queue": "audit"}
    assert settings.CELERY_TASK_ROUTES["botaudit.digest.*"] == {"queue": "digest"}


def test_a_scheduled_audit_does_not_start_while_a_unit_of_the_same_connector_runs(three_repos, settings):
    from datetime import timedelta

    from django.utils import timezone

    from scanners.services.audit import AuditBusy, audit_run_start
    from scanners.services.plan import audit_run_plan

    busy = audit_run_plan(audit_run_id=audit_run_start(trigger="schedule").pk)
    ProbeRun.objects.filter(audit_run=busy).exclude(unit="beta").update(status="ok", started=timezone.now(),
                                                                       finished=timezone.now())
    ProbeRun.objects.filter(audit_run=busy, unit="beta").update(status="running", started=timezone.now())
    with pytest.raises(AuditBusy):
        audit_run_start(trigger="schedule", exclusive=True)
    # The lock expires with the unit: past the time limit + grace the reaper ends it, and the tick runs.
    ProbeRun.objects.filter(audit_run=busy, unit="beta").update(started=timezone.now() - timedelta(
        seconds=settings.BOTAUDIT_PROBE_TIME_LIMIT + settings.BOTAUDIT_REAPER_GRACE_SECONDS + 5))
    run = audit_run_start(trigger="schedule", exclusive=True)
    assert run.pk != busy.pk and ProbeRun.objects.get(audit_run=busy, unit="beta").status == "failed"


def test_every_queue_is_consumed_by_a_worker_started_without_q():
    from botaudit.celery import app

    assert {"audit", "probe.git", "probe.aws", "probe.vault", "digest"} <= set(app.amqp.queues)


def test_the_digest_names_a_failed_git_unit_only_to_the_team_owning_that_repository(three_repos, team):
    from django.utils import timezone

    from scanners.digest.selectors import probes_failed
    from scanners.digest.weeks import week_containing

    Repository.objects.filter(name="gamma").update(url="/nonexistent/gamma")
    audit_run_in_process(connector_names=["git"])
    Repository.objects.filter(name="beta").update(url="/nonexistent/beta")
    audit_run_in_process(connector_names=["git"])
    week = week_containing(timezone.now())
    everyone = {p["connector"] for p in probes_failed(week=week)}
    assert everyone == {"git [gamma]", "git [beta]"}
    Repository.objects.get(name="beta").bots.add(*team.bots.all())  # the team owns alpha and now beta
    seen = [p["connector"] for p in probes_failed(week=week, team=team)]
    assert sorted(seen) == ["git", "git", "git [beta]"]  # gamma (not theirs) stays unnamed


def test_the_reaper_leaves_a_later_phase_waiting_while_an_earlier_one_runs(db, fact_kinds, settings):
    from datetime import timedelta

    import redis
    from django.utils import timezone

    from scanners.services.audit import audit_run_start
    from scanners.services.plan import audit_run_plan, phase_task_id
    from scanners.services.reaper import queue_names, runs_reap

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(*queue_names(), "unacked")
    Connector.objects.create(name="src", kind="factsrc")
    Connector.objects.create(name="use", kind="factuse")
    run = audit_run_plan(audit_run_id=audit_run_start(task_id="fan-out-done").pk)
    AuditRun.objects.filter(pk=run.pk).update(started=timezone.now() - timedelta(
        seconds=settings.BOTAUDIT_REAPER_GRACE_SECONDS + 5))
    phase0 = run.probe_runs.filter(phase=0)
    phase0.update(status="running", started=timezone.now())  # its messages are with a live worker
    client.hset("unacked", "t", json.dumps([{"headers": {"id": phase0.first().task_id}}, "", "probe.aws"]))
    for pr in phase0[1:]:
        client.hset("unacked", f"t{pr.pk}", json.dumps([{"headers": {"id": pr.task_id}}, "", "probe.aws"]))
    try:
        runs_reap()
        assert set(run.probe_runs.filter(phase=1).values_list("status", flat=True)) == {"pending"}
        # phase 0 done; the callback that queues phase 1 is in the audit queue: still waiting
        phase0.update(status="ok", finished=timezone.now())
        client.delete("unacked")
        client.lpush("audit", json.dumps({"headers": {"id": phase_task_id(run, 1)}}))
        runs_reap()
        assert set(run.probe_runs.filter(phase=1).values_list("status", flat=True)) == {"pending"}
        # that message is lost too: now the later phase can no longer run and is ended
        client.delete("audit")
        runs_reap()
        ended = run.probe_runs.filter(phase=1)
        assert set(ended.values_list("status", flat=True)) == {"failed"}
        assert all("no longer queued" in e for e in ended.values_list("error", flat=True))
    finally:
        client.delete(*queue_names(), "unacked")
