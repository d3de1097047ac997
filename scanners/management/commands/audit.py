import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inventory.locations import text_redact
from inventory.models import Bot
from scanners.models import AuditRun, Finding, ProbeRun
from scanners.registry import ProbeError
from scanners.selectors.findings import severity_counts
from scanners.selectors.runs import audit_run_summary, audit_run_wait
from scanners.services.audit import audit_run_in_process


class Command(BaseCommand):
    help = "Run an audit of the fleet: every enabled connector plus the inventory checks."

    def add_arguments(self, parser):
        parser.add_argument("--connector", action="append", dest="connectors", metavar="NAME",
                            help="Only this connector (repeatable). The inventory probe always runs.")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
        parser.add_argument("--wait", action="store_true",
                            help="With REDIS_URL set: run through the Celery workers and wait for the result "
                                 "(otherwise the audit runs in this process).")
        parser.add_argument("--timeout", type=int, default=3600,
                            help="Seconds to wait with --wait; exits 2 when the audit has not finished by then.")

    def handle(self, *args, connectors=None, json=False, wait=False, timeout=3600, **options):
        try:
            if settings.REDIS_URL and wait:
                run = self._through_workers(connectors, timeout, quiet=json)
            else:
                run = audit_run_in_process(trigger="cli", connector_names=connectors,
                                           progress=None if json else self._progress)
        except ProbeError as exc:
            raise CommandError(text_redact(str(exc))) from exc
        if json:
            self.stdout.write(_json_dumps(audit_run_summary(audit_run=run)))
        else:
            self._print_summary(run)
        if run.status != AuditRun.Status.OK:
            raise SystemExit(2)

    def _through_workers(self, connectors, timeout, quiet):
        from scanners.tasks import audit_enqueue

        if not quiet:
            self.stdout.write("Running the audit through the Celery workers...")
        run = audit_enqueue(trigger="cli", connector_names=connectors)  # BrokerUnavailable: a ProbeError
        return _wait_finished(run.pk, timeout)

    def _progress(self, probe_run):
        label = probe_run.connector.name if probe_run.connector else probe_run.kind
        unit = f" [{probe_run.unit}]" if probe_run.unit else ""
        self.stdout.write(f"  probing {label}{unit} ({probe_run.kind})...")

    def _print_summary(self, run):
        w = self.stdout.write
        findings = Finding.objects.filter(last_probe_run__audit_run=run)
        w(f"\nAudit #{run.pk}: {run.status}")
        w(f"Bots audited: {Bot.objects.filter(status=Bot.Status.ACTIVE).count()}")
        w("Findings seen: " + ", ".join(f"{k} {v}" for k, v in severity_counts(findings).items()))
        w("\n{:<24} {:<10} {:<28} {:<8} {:>6} {:>9}  {}".format("PROBE", "KIND", "UNIT", "STATUS", "CALLS", "FINDINGS",
                                                                "ERROR"))
        for pr in run.probe_runs.select_related("connector").order_by("pk"):
            label = pr.connector.name if pr.connector else "(inventory)"
            error = pr.error_shown.splitlines()[0][:80] if pr.error else ""
            w(f"{label:<24} {pr.kind:<10} {pr.unit[:28]:<28} {pr.status:<8} {pr.api_calls:>6} "
              f"{pr.counts.get('findings', 0):>9}  {error}")



def _wait_finished(run_id, timeout):
    run = audit_run_wait(audit_run_id=run_id, timeout=timeout)
    if run:
        return run
    pending = ProbeRun.objects.filter(audit_run_id=run_id).exclude(status__in=["ok", "partial", "failed"])
    raise CommandError(f"audit #{run_id} did not finish in {timeout}s; waiting on {pending.count()} probe(s) "
                       "(it goes on in the workers; the reaper ends it if they cannot finish it)", returncode=2)


def _json_dumps(data):
    return json.dumps(data, indent=2, sort_keys=False)
