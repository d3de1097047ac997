"""The fleet inventory: what we have. Credentials are references to where a secret lives,
never the secret itself."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from .locations import location_check


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    email = models.EmailField(blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")
    # Webhook after each audit: {"webhook_url_env": NAME, "min_severity": "high", "format": "slack"|"json"}.
    # The URL itself is read from the environment variable NAME when sending; never stored.
    notify = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Owner(models.Model):
    """A bot owner's standing, from the manifest's `owners:` section: departed owners are offboarded."""

    email = models.EmailField(unique=True)
    departed = models.BooleanField(default=False)

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return f"{self.email} ({'departed' if self.departed else 'active'})"


class Repository(models.Model):
    name = models.CharField(max_length=200, unique=True)
    url = models.CharField(max_length=1000, help_text="Clone URL or local path.")
    branches = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "repositories"

    def __str__(self):
        return self.name

    def clean(self):
        """The admin and full_clean() refuse what the manifest refuses (credentials, option injection)."""
        if self.url and (problem := location_check(self.url)):
            raise ValidationError({"url": problem})


class Bot(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        RETIRED = "retired"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="bots")
    owner_email = models.EmailField(blank=True)
    environment = models.CharField(max_length=50, blank=True)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    repositories = models.ManyToManyField(Repository, blank=True, related_name="bots")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Identity(models.Model):
    class Kind(models.TextChoices):
        AWS_IAM_USER = "aws_iam_user"
        AWS_IAM_ROLE = "aws_iam_role"
        VAULT_APPROLE = "vault_approle"
        VAULT_TOKEN_ROLE = "vault_token_role"  # noqa: S105 - a kind, not a token
        VAULT_ENTITY = "vault_entity"

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    ref = models.CharField(max_length=500)

    class Meta:
        ordering = ["bot__name", "kind", "ref"]
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(fields=["bot", "kind", "ref"], name="identity_unique_per_bot"),
        ]

    def __str__(self):
        return f"{self.kind}:{self.ref}"


class Credential(models.Model):
    class Store(models.TextChoices):
        AWS_SECRETSMANAGER = "aws_secretsmanager"
        VAULT_KV = "vault_kv"
        ENV_VAR = "env_var"
        CONFIG_FILE = "config_file"
        CI_VARIABLE = "ci_variable"
        OTHER = "other"

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="credentials")
    name = models.CharField(max_length=200)
    store = models.CharField(max_length=30, choices=Store.choices)
    ref = models.CharField(max_length=1000, blank=True, help_text="Where the secret lives; never the value.")
    service = models.CharField(max_length=100, blank=True)
    rotation_days = models.PositiveIntegerField(null=True, blank=True)
    # Facts learned by probes about the secret behind the ref (never its value).
    created_at = models.DateTimeField(null=True, blank=True)
    last_rotated_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    observed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["bot__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["bot", "name"], name="credential_unique_name_per_bot"),
        ]

    def __str__(self):
        return f"{self.bot.name}/{self.name}"


class Connector(models.Model):
    class Kind(models.TextChoices):
        AWS = "aws"
        VAULT = "vault"
        GIT = "git"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    options = models.JSONField(default=dict, blank=True, help_text="Non-secret options only.")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.kind})"


class AuditLogEntry(models.Model):
    """Who did what, when: triage, exports, imports."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=50)
    target = models.CharField(max_length=500, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "audit log entries"

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action} {self.target}"
