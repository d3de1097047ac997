"""What the API returns. Evidence is the stored evidence: redacted previews and fingerprints only."""

from datetime import datetime

from django.utils import timezone
from rest_framework import serializers

from inventory.credentials import credential_age_days, credential_rotation_overdue
from inventory.models import Bot, Credential, Identity, Repository, Team
from inventory.selectors import auditors_list
from scanners.models import AuditRun, BotScore, Finding, ProbeRun
from scanners.services.findings import TRIAGE_STATUSES
from scanners.sla import finding_days_left


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["slug", "name", "email"]


class IdentitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Identity
        fields = ["kind", "ref"]


class CredentialSerializer(serializers.ModelSerializer):
    age_days = serializers.SerializerMethodField()
    rotation_overdue = serializers.SerializerMethodField()

    class Meta:
        model = Credential
        fields = ["name", "store", "ref", "service", "rotation_days", "created_at", "last_rotated_at",
                  "last_used_at", "age_days", "rotation_overdue"]

    def get_age_days(self, obj) -> int | None:
        return credential_age_days(obj, now=timezone.now())

    def get_rotation_overdue(self, obj) -> bool:
        return credential_rotation_overdue(obj, now=timezone.now())


class RepositorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Repository
        fields = ["name", "branches"]


class ScoreSerializer(serializers.ModelSerializer):
    audit_run = serializers.IntegerField(source="audit_run_id")

    class Meta:
        model = BotScore
        fields = ["audit_run", "score", "breakdown", "created"]


class BotSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    risk_score = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Bot
        fields = ["slug", "name", "team", "owner_email", "environment", "status", "risk_score"]


class BotDetailSerializer(BotSerializer):
    identities = IdentitySerializer(many=True, read_only=True)
    credentials = CredentialSerializer(many=True, read_only=True)
    repositories = RepositorySerializer(many=True, read_only=True)
    latest_score = serializers.SerializerMethodField()

    class Meta(BotSerializer.Meta):
        fields = [*BotSerializer.Meta.fields, "description", "identities", "credentials", "repositories",
                  "latest_score"]

    def get_latest_score(self, obj) -> dict | None:
        score = obj.scores.order_by("-audit_run_id").first()
        return ScoreSerializer(score).data if score else None


class FindingSerializer(serializers.ModelSerializer):
    bot = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    team = serializers.SerializerMethodField()
    due = serializers.SerializerMethodField()
    days_left = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()
    accepted_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Finding
        fields = ["id", "check_id", "severity", "category", "owasp_nhi", "title", "bot", "team", "subject",
                  "evidence", "remediation", "status", "status_reason", "status_changed_at", "first_seen",
                  "last_seen", "resolved_at", "fingerprint", "due", "days_left", "overdue", "accepted_until",
                  "accepted_by"]

    def get_team(self, obj) -> str | None:
        return obj.bot.team.slug if obj.bot else None

    def get_due(self, obj) -> datetime | None:
        """When the finding's SLA is due (first seen + BOTAUDIT_SLA_DAYS[severity]); null for info."""
        return obj.due_at

    def get_days_left(self, obj) -> int | None:
        """Whole days until due, negative when overdue; null without a deadline or when not active."""
        return finding_days_left(obj)

    def get_overdue(self, obj) -> bool:
        return obj.is_overdue


class TriageSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=sorted(TRIAGE_STATUSES))
    reason = serializers.CharField(max_length=2000, allow_blank=False, trim_whitespace=True)
    until = serializers.DateField(required=False, help_text="accept: the last day the risk is accepted.")
    approver = serializers.SlugRelatedField(
        slug_field="username", queryset=auditors_list(), required=False,
        help_text="accept: the approving auditor's username (default: the caller).")

    def validate(self, attrs):
        if attrs["action"] == "accept" and not attrs.get("until"):
            raise serializers.ValidationError({"until": "accept needs the date the risk is accepted until."})
        return attrs


class ProbeRunSerializer(serializers.ModelSerializer):
    connector = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    class Meta:
        model = ProbeRun
        fields = ["id", "audit_run", "connector", "kind", "unit", "account", "scope", "status", "started", "finished",
                  "api_calls", "counts", "error"]

    def get_connector(self, obj) -> str | None:
        return obj.connector.name if obj.connector else None

    def get_error(self, obj) -> str | None:
        """Errors name stores and repositories: auditors only, as on the Runs page."""
        return (obj.error or None) if self.context.get("show_errors") else None


class AuditRunSerializer(serializers.ModelSerializer):
    probe_runs = ProbeRunSerializer(many=True, read_only=True)

    class Meta:
        model = AuditRun
        fields = ["id", "status", "trigger", "started", "finished", "probe_runs"]


class CheckSerializer(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.CharField()
    severity = serializers.CharField()
    category = serializers.CharField()
    owasp = serializers.CharField()
    title = serializers.CharField()
    remediation = serializers.CharField()


class LeakLocationSerializer(serializers.Serializer):
    repository = serializers.CharField(allow_null=True, required=False)
    file = serializers.CharField(allow_null=True, required=False)
    line = serializers.IntegerField(allow_null=True, required=False)
    commit = serializers.CharField(allow_null=True, required=False)
    commit_date = serializers.CharField(allow_null=True, required=False)
    still_at_head = serializers.BooleanField(allow_null=True, required=False)
    rule_id = serializers.CharField(allow_null=True, required=False)
    confidence = serializers.CharField(allow_null=True, required=False)


class LeakSerializer(serializers.Serializer):
    secret_fingerprint = serializers.CharField()
    redacted = serializers.CharField()
    rule_ids = serializers.ListField(child=serializers.CharField())
    severity = serializers.CharField()
    confidence = serializers.CharField()
    still_active = serializers.BooleanField()
    location_count = serializers.IntegerField()
    repositories = serializers.ListField(child=serializers.CharField())
    bots = serializers.ListField(child=serializers.CharField())
    findings = serializers.IntegerField()
    open = serializers.IntegerField()
    first_seen = serializers.DateTimeField()


class LeakFindingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    bot = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    severity = serializers.CharField()


class LeakDetailSerializer(serializers.Serializer):
    secret_fingerprint = serializers.CharField()
    severity = serializers.CharField()
    location_count = serializers.IntegerField()
    locations = LeakLocationSerializer(many=True)
    findings = LeakFindingSerializer(many=True)


class DefectDojoDocumentSerializer(serializers.Serializer):
    """DefectDojo Generic Findings Import: `{"name", "type", "findings": [...]}` (see dashboard.interchange)."""

    name = serializers.CharField()
    type = serializers.CharField()
    findings = serializers.ListField(child=serializers.DictField())
