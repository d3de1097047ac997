"""What the git probe remembers per repository between runs, so later runs scan only new commits
and still re-report earlier leaks: the tips it scanned and the leaks it found (fingerprints and
metadata, never values)."""

from django.db import models
from django.utils import timezone


class GitScanState(models.Model):
    key = models.CharField(max_length=300, unique=True, help_text="connector id and repository id")
    repository = models.ForeignKey(
        "inventory.Repository", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="the inventory repository scanned (its leaks' locations name it by id)",
    )
    tips = models.JSONField(default=dict, help_text="{ref: commit id} scanned up to")
    rules_digest = models.CharField(max_length=64, blank=True, help_text="rules changed => full rescan")
    commits_scanned = models.PositiveIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "scanners"

    def __str__(self):
        return self.key


class GitLeakRecord(models.Model):
    state = models.ForeignKey(GitScanState, on_delete=models.CASCADE, related_name="leaks")
    fingerprint = models.CharField(max_length=64, help_text="rule + path + secret fingerprint")
    rule_id = models.CharField(max_length=100)
    file = models.CharField(max_length=1000)
    line = models.PositiveIntegerField()
    commit = models.CharField(max_length=64)
    commit_date = models.CharField(max_length=40)
    redacted = models.CharField(max_length=40)
    secret_fingerprint = models.CharField(max_length=64, db_index=True)
    still_at_head = models.BooleanField(default=False)
    confidence = models.CharField(max_length=10, default="high", help_text="high | medium | low")
    reasons = models.JSONField(default=list, blank=True, help_text="why the detector gave that confidence")
    first_seen = models.DateTimeField(default=timezone.now, help_text="when a scan first recorded it")

    class Meta:
        app_label = "scanners"
        constraints = [
            models.UniqueConstraint(fields=["state", "fingerprint"], name="gitleak_unique_per_repo"),
        ]

    def __str__(self):
        return f"{self.rule_id} {self.file}:{self.line}"
