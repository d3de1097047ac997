"""Two audits at once, on PostgreSQL, with a forced interleaving: each probe thread stops where its
writes begin and waits for the other to get there too. Same connector: the scope lock makes the
second wait for the first (the rendezvous times out); triage and what either saw survive. Two
connectors reporting the same subject: no lock between them, so both insert the same new finding
at once — one row, no IntegrityError."""

import threading

import pytest
from django.db import connection

import scanners.services.audit as audit_service
from inventory.models import Connector
from scanners.models import Finding, ProbeRun
from scanners.services.audit import audit_run_finish, audit_run_in_process, audit_run_start, probe_run_execute
from scanners.services.findings import findings_triage

pytestmark = pytest.mark.django_db(transaction=True)


class Rendezvous:
    """Around a step: wait up to `timeout` s for the other thread to be inside the same step too.
    `together[step]` says whether both threads were ever inside it at the same time."""

    def __init__(self, timeout=1.5):
        self.timeout = timeout
        self.inside: dict[str, int] = {}
        self.together: dict[str, bool] = {}
        self.cond = threading.Condition()

    def around(self, step, fn, *args, **kwargs):
        with self.cond:
            self.inside[step] = self.inside.get(step, 0) + 1
            self.cond.notify_all()
            both = self.cond.wait_for(lambda: self.inside[step] >= 2, timeout=self.timeout)
            self.together[step] = self.together.get(step, False) or both
        try:
            return fn(*args, **kwargs)
        finally:
            with self.cond:
                self.inside[step] -= 1


def _hook(monkeypatch, rendezvous):
    for name in ("findings_upsert", "findings_reconcile"):
        original = getattr(audit_service, name)

        def at_rendezvous(*args, _original=original, _name=name, **kwargs):
            return rendezvous.around(_name, _original, *args, **kwargs)

        monkeypatch.setattr(audit_service, name, at_rendezvous)


def _run_both(probe_run_ids):
    errors = []

    def run(pk):
        try:
            probe_run_execute(probe_run_id=pk)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(pk,)) for pk in probe_run_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and not any(t.is_alive() for t in threads)


def test_two_audits_of_one_connector_keep_triage_and_what_either_saw(test_connector, test_probe, make_bot,
                                                                      monkeypatch, django_user_model):
    assert connection.vendor == "postgresql"
    bot = make_bot("conc-bot")
    test_probe.subjects = [("acked", bot.pk), ("gone", bot.pk)]
    audit_run_in_process(connector_names=["test-conn"])
    acked = Finding.objects.get(subject="acked")
    user = django_user_model.objects.create_user("triager")
    findings_triage(finding_ids=[acked.pk], action="acknowledge", user=user, reason="known, ticket SEC-1")

    test_probe.subjects = [("acked", bot.pk), ("new", bot.pk)]  # "gone" is no longer there
    runs = [audit_run_start(connector_names=["test-conn"]) for _ in range(2)]
    probes = [r.probe_runs.get(kind="testprobe").pk for r in runs]
    rendezvous = Rendezvous()
    _hook(monkeypatch, rendezvous)
    _run_both(probes)

    assert rendezvous.together == {"findings_upsert": False, "findings_reconcile": False}  # serialised by the lock
    assert sorted(ProbeRun.objects.filter(pk__in=probes).values_list("status", flat=True)) == ["ok", "ok"]
    acked.refresh_from_db()
    assert acked.status == "acknowledged" and acked.status_reason == "known, ticket SEC-1"
    assert Finding.objects.filter(subject="new").count() == 1
    assert Finding.objects.get(subject="new").status == "open"
    assert Finding.objects.get(subject="gone").status == "resolved"  # resolved once, by whichever came first
    for run in runs:
        probe_run_execute(probe_run_id=run.probe_runs.get(kind="inventory").pk)
        assert audit_run_finish(audit_run_id=run.pk).status == "ok"


def test_a_run_that_started_earlier_never_resolves_what_a_later_run_saw(test_connector, test_probe, make_bot):
    """Reconcile is by last-seen time: an older view committed last does not overrule a newer one."""
    bot = make_bot("late-bot")
    test_probe.subjects = [("seen", bot.pk)]
    older = audit_run_start(connector_names=["test-conn"])
    newer = audit_run_start(connector_names=["test-conn"])
    older_probe = older.probe_runs.get(kind="testprobe")
    # The older run claims first (it started first) ...
    claimed = audit_service.probe_run_claim(probe_run_id=older_probe.pk)
    probe_run_execute(probe_run_id=newer.probe_runs.get(kind="testprobe").pk)  # ... the newer one sees it
    test_probe.subjects = []  # ... and the older run's (stale) view did not contain it.
    ctx_outcome = audit_service.Outcome(collected=audit_service.registry.Collected(observations=[]), drafts=[],
                                        errors=[])
    audit_service.probe_run_commit(probe_run=claimed, outcome=ctx_outcome, now=claimed.started)
    claimed.refresh_from_db()
    assert claimed.status == "ok" and claimed.counts["resolved"] == 0
    assert Finding.objects.get(subject="seen").status == "open"


def test_two_connectors_creating_the_same_finding_at_once_make_one_row(test_probe, make_bot, monkeypatch):
    bot = make_bot("shared-bot")
    Connector.objects.create(name="left", kind="testprobe")
    Connector.objects.create(name="right", kind="testprobe")
    test_probe.subjects = [("same-subject", bot.pk)]
    run = audit_run_start(connector_names=["left", "right"])
    probes = list(run.probe_runs.filter(kind="testprobe").values_list("pk", flat=True))
    rendezvous = Rendezvous(timeout=5)
    _hook(monkeypatch, rendezvous)
    _run_both(probes)

    assert rendezvous.together["findings_upsert"] is True  # both were inserting at the same time
    statuses = dict(ProbeRun.objects.filter(pk__in=probes).values_list("pk", "error"))
    assert sorted(ProbeRun.objects.filter(pk__in=probes).values_list("status", flat=True)) == ["ok", "ok"], statuses
    assert Finding.objects.filter(subject="same-subject").count() == 1
