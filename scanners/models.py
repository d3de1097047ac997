"""What we found: audit runs, probe runs, findings and scores."""

from django.conf import settings
from django.db import models

from inventory.locations import text_redact
from inventory.models import Bot, Connector, Team


class Severity(models.TextChoices):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


SEVERITY_ORDER = [s.value for s in Severity]  # most severe first


class Category(models.TextChoices):
    OVER_BROAD_ACCESS = "over_broad_access"
    STALE_CREDENTIAL = "stale_credential"
    LEAK = "leak"
    HYGIENE = "hygiene"
    INVENTORY_GAP = "inventory_gap"


class AuditRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        OK = "ok"
        PARTIAL = "partial"
        FAILED = "failed"

    started = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=50, default="manual")
    # The Celery task that created the run (beat ticks): a redelivered task finds its run again.
    task_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    error = models.TextField(blank=True, help_text="Why the run ended early (e.g. ended by the reaper).")
    # Set once the connectors' units are planned (services/plan.py): a redelivered fan-out plans nothing twice.
    planned = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started"]

    def __str__(self):
        return f"audit #{self.pk} ({self.status})"


class ProbeRun(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        OK = "ok"
        PARTIAL = "partial"
        FAILED = "failed"

    audit_run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="probe_runs")
    connector = models.ForeignKey(
        Connector, null=True, blank=True, on_delete=models.SET_NULL, related_name="probe_runs"
    )
    kind = models.CharField(max_length=20)
    scope = models.CharField(max_length=400, help_text="Findings this probe owns, for reconcile.")
    # The unit of work of its connector (a repository, "<account>/iam", "<account>/<region>"); "" = the whole.
    unit = models.CharField(max_length=300, blank=True)
    account = models.CharField(max_length=20, blank=True, help_text="AWS account id of the unit, where there is one")
    unit_params = models.JSONField(default=dict, blank=True, help_text="what collect() needs (registry.Unit.params)")
    phase = models.PositiveSmallIntegerField(default=0, help_text="units of a phase start after the earlier phases")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    api_calls = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # Non-secret facts a probe publishes for other checks (e.g. fingerprints of active key ids).
    facts = models.JSONField(default=dict, blank=True)
    # The Celery task id of this probe, set before it is queued: the reaper looks for it in the broker.
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["audit_run_id", "id"]

    def __str__(self):
        return f"{self.scope} in audit #{self.audit_run_id} ({self.status})"

    @property
    def duration(self):
        if self.started and self.finished:
            return self.finished - self.started
        return None

    @property
    def error_shown(self) -> str:
        """The error as pages show it: redacted again, for rows stored before errors were redacted."""
        return text_redact(self.error)


class Finding(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        ACKNOWLEDGED = "acknowledged"
        FALSE_POSITIVE = "false_positive"
        RESOLVED = "resolved"
        ACCEPTED = "accepted"  # risk accepted until `accepted_until`, then reopened (scanners/acceptance.py)

    check_id = models.CharField(max_length=100, db_index=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, db_index=True)
    category = models.CharField(max_length=30, choices=Category.choices, db_index=True)
    owasp_nhi = models.CharField(max_length=10, blank=True)
    title = models.CharField(max_length=300)
    bot = models.ForeignKey(Bot, null=True, blank=True, on_delete=models.SET_NULL, related_name="findings")
    subject = models.CharField(max_length=1000)
    evidence = models.JSONField(default=dict, blank=True)
    remediation = models.TextField(blank=True)
    scope = models.CharField(max_length=400, db_index=True)
    fingerprint = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.TextField(blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    last_probe_run = models.ForeignKey(ProbeRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Risk acceptance: only while status is `accepted` (through the end of this date, TIME_ZONE), and the
    # auditor who approved it. Kept after the acceptance expires, as a record of what was accepted.
    accepted_until = models.DateField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-last_seen"]
        indexes = [
            models.Index(fields=["bot", "status"], name="finding_bot_status"),
            models.Index(fields=["scope", "status"], name="finding_scope_status"),
            models.Index(fields=["-last_seen"], name="finding_last_seen"),
        ]

    def __str__(self):
        return f"{self.check_id} {self.subject}"

    @property
    def due_at(self):
        """When its SLA is due (scanners/sla.py), or None."""
        from .sla import finding_due

        return finding_due(self)

    @property
    def sla_shown(self) -> str:
        """'5 days left' / '3 days overdue' / '' for pages."""
        from .sla import sla_text

        return sla_text(self)

    @property
    def is_overdue(self) -> bool:
        from .sla import finding_is_overdue

        return finding_is_overdue(self)


# Active findings: still a problem (open, or acknowledged as a known risk). They are scored, counted
# as "active" by the digest, and resolved by reconcile when not seen again. The one definition.
# Accepted findings are not active: not scored, not counted, not overdue, until their acceptance expires.
ACTIVE_STATUSES = (Finding.Status.OPEN, Finding.Status.ACKNOWLEDGED)
# What reconcile resolves when not seen again: active findings and accepted ones (the risk went away).
RECONCILED_STATUSES = (*ACTIVE_STATUSES, Finding.Status.ACCEPTED)


class BotScore(models.Model):
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="scores")
    audit_run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="scores")
    score = models.PositiveSmallIntegerField()
    breakdown = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-audit_run_id"]
        constraints = [
            models.UniqueConstraint(fields=["bot", "audit_run"], name="botscore_unique_per_run"),
        ]

    def __str__(self):
        return f"{self.bot} {self.score} (audit #{self.audit_run_id})"


class Digest(models.Model):
    """One weekly email per recipient group and ISO week: the exactly-once record."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    group = models.CharField(max_length=150, help_text="'team:<slug>' or 'security'.")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="digests")
    week = models.CharField(max_length=8, help_text="ISO week, e.g. 2026-W48.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-week", "group"]
        constraints = [
            models.UniqueConstraint(fields=["group", "week"], name="digest_once_per_group_week"),
        ]

    def __str__(self):
        return f"{self.group} {self.week} ({self.status})"
class WebhookDelivery(models.Model):
    """One webhook notification per (audit run, target): the exactly-once record, claimed before sending."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"
        SKIPPED = "skipped"

    audit_run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="webhook_deliveries")
    target = models.CharField(max_length=150, help_text="'team:<slug>' or 'security'.")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    url_env = models.CharField(max_length=100, blank=True, help_text="The variable naming the URL; never the URL.")
    format = models.CharField(max_length=10, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-audit_run_id", "target"]
        constraints = [
            models.UniqueConstraint(fields=["audit_run", "target"], name="webhook_once_per_run_target"),
        ]

    def __str__(self):
        return f"{self.target} audit #{self.audit_run_id} ({self.status})"


from .git.models import GitLeakRecord, GitScanState  # noqa: E402,F401  (git probe state)
