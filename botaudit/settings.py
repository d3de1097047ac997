"""Django settings for BotAudit: everything comes from the environment (django-environ)."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from scanners.git.config import git_settings

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it (or DJANGO_DEBUG=1 for local development)."
        )
    SECRET_KEY = "insecure-development-only-key"  # noqa: S105 - DEBUG only, refused otherwise

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "django_tables2",
    "django_filters",
    "inventory",
    "scanners",
    "dashboard",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
]
# Demo seeders, demo servers and bench seeding: development only, never in production.
if DEBUG:
    INSTALLED_APPS += ["devtools"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "botaudit.urls"
WSGI_APPLICATION = "botaudit.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# An empty DATABASE_URL means the embedded default, like an unset one.
DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'botaudit.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASE_URL.startswith("sqlite"):
    VAR_DIR.mkdir(exist_ok=True)
    # One writer at a time, taken at the start of each transaction (scanners/services/locks.py
    # relies on it); a second writer waits up to 20 s instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(transaction_mode="IMMEDIATE", timeout=20)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Keep a web or worker process's database connection between requests (PostgreSQL: opening one forks
# a server process, a few ms of CPU per request); checked before reuse, so a restarted server costs
# one request a reconnect, not an error. 0 = a new connection per request (`?conn_max_age=` in the
# URL wins).
if not DATABASE_URL.startswith("sqlite"):
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=600))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "botaudit.redis_cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []

# Security headers; production values unless DEBUG.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
if env.bool("DJANGO_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Celery. Without REDIS_URL the audit runs in-process (the embedded default).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="botaudit")  # tasks without a route
# Queues (issue 13): `audit` fans out, plans units and scores; `probe.git` (CPU-bound) and
# `probe.aws` / `probe.vault` (network-bound) run units (scanners.tasks.probe_queue picks one per
# unit; other kinds, e.g. the inventory probe, run on `audit`); `digest` sends the weekly email.
# A worker started without -Q consumes every queue listed here (the all-in-one worker).
BOTAUDIT_QUEUES = ("audit", "probe.git", "probe.aws", "probe.vault", "digest")
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name, type="direct"), routing_key=name)
    for name in dict.fromkeys((*BOTAUDIT_QUEUES, CELERY_TASK_DEFAULT_QUEUE))
]
CELERY_TASK_ROUTES = {
    "botaudit.audit_fleet": {"queue": "audit"},
    "botaudit.audit_phase": {"queue": "audit"},
    "botaudit.finish_audit": {"queue": "audit"},
    "botaudit.reap_stale_runs": {"queue": "audit"},
    "botaudit.run_probe": {"queue": "audit"},  # each unit's queue is set when it is queued
    "botaudit.digest.*": {"queue": "digest"},
    "botaudit.notify.*": {"queue": "digest"},  # webhooks after each audit (scanners/notify)
    "botaudit.expire_risk_acceptances": {"queue": "audit"},
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

# BotAudit.
BOTAUDIT_FINGERPRINT_KEY = env.str("BOTAUDIT_FINGERPRINT_KEY", default="")
if not BOTAUDIT_FINGERPRINT_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "BOTAUDIT_FINGERPRINT_KEY is not set. It keys the HMAC fingerprints of leaked secrets."
        )
    BOTAUDIT_FINGERPRINT_KEY = "insecure-development-fingerprint-key"  # noqa: S105 - DEBUG only
BOTAUDIT_AUDIT_INTERVAL_HOURS = env.int("BOTAUDIT_AUDIT_INTERVAL_HOURS", default=6)
BOTAUDIT_BOT_TAG = env.str("BOTAUDIT_BOT_TAG", default="bot")
BOTAUDIT_BASE_URL = env.str("BOTAUDIT_BASE_URL", default="http://127.0.0.1:8000")
# Risk score (scanners/scoring.py, README "Risk score"): a finding's weight is its severity's weight
# (percent of the headroom left) times its category's factor; info weighs nothing.
BOTAUDIT_SEVERITY_WEIGHTS = {"critical": 30, "high": 15, "medium": 5, "low": 3, "info": 0}
BOTAUDIT_CATEGORY_FACTORS = {"leak": 1.0, "over_broad_access": 1.0, "stale_credential": 0.9,
                             "hygiene": 0.7, "inventory_gap": 0.7}
# SLA per severity (scanners/sla.py): days from first seen until a finding is due; `info` has none.
BOTAUDIT_SLA_DAYS = {
    "critical": env.int("BOTAUDIT_SLA_CRITICAL_DAYS", default=7),
    "high": env.int("BOTAUDIT_SLA_HIGH_DAYS", default=30),
    "medium": env.int("BOTAUDIT_SLA_MEDIUM_DAYS", default=90),
    "low": env.int("BOTAUDIT_SLA_LOW_DAYS", default=180),
}
BOTAUDIT_PROBE_MAX_RETRIES = env.int("BOTAUDIT_PROBE_MAX_RETRIES", default=3)
# A probe task still running after this many seconds is stopped and marked failed (a hostile
# repository can make libgit2 spin); the worker process is killed 60 s later if it does not stop.
BOTAUDIT_PROBE_TIME_LIMIT = env.int("BOTAUDIT_PROBE_TIME_LIMIT", default=3600)
# The reaper (scanners/services/reaper.py) ends probe runs still `running` this long after the time
# limit, and audits whose probes' messages were lost; beat runs it every BOTAUDIT_REAPER_INTERVAL_SECONDS.
BOTAUDIT_REAPER_GRACE_SECONDS = env.int("BOTAUDIT_REAPER_GRACE_SECONDS", default=120)
BOTAUDIT_REAPER_INTERVAL_SECONDS = env.int("BOTAUDIT_REAPER_INTERVAL_SECONDS", default=300)
# A message a worker took and never acknowledged (the worker was killed) is delivered again once
# the probe's deadline has passed, not after kombu's default hour; looked for every <= 60 s.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": BOTAUDIT_PROBE_TIME_LIMIT + BOTAUDIT_REAPER_GRACE_SECONDS,
    "unacked_restore_interval": max(1, min(60, BOTAUDIT_REAPER_GRACE_SECONDS)),
    "unacked_restore_throttle": 1,
}
# AWS probe thresholds (days) and the size of its thread pool for per-secret calls.
BOTAUDIT_AWS_KEY_MAX_AGE_DAYS = env.int("BOTAUDIT_AWS_KEY_MAX_AGE_DAYS", default=90)
BOTAUDIT_AWS_KEY_UNUSED_DAYS = env.int("BOTAUDIT_AWS_KEY_UNUSED_DAYS", default=45)
BOTAUDIT_AWS_SECRET_ROTATION_DAYS = env.int("BOTAUDIT_AWS_SECRET_ROTATION_DAYS", default=90)
BOTAUDIT_AWS_SECRET_UNUSED_DAYS = env.int("BOTAUDIT_AWS_SECRET_UNUSED_DAYS", default=90)
BOTAUDIT_AWS_WORKERS = env.int("BOTAUDIT_AWS_WORKERS", default=8)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Email and the weekly digest (scanners/digest).
vars().update(env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="BotAudit <botaudit@localhost>")
BOTAUDIT_DIGEST_SECURITY_RECIPIENTS = env.list("BOTAUDIT_DIGEST_SECURITY_RECIPIENTS", default=[])
BOTAUDIT_DIGEST_MAX_RETRIES = env.int("BOTAUDIT_DIGEST_MAX_RETRIES", default=5)

# Webhooks after each audit (scanners/notify): per team from the manifest's `notify:`, plus a
# security-wide one. Only the *name* of the variable holding the URL is configured; the URL is read
# from the environment when sending and never stored. https and public addresses only, unless
# BOTAUDIT_WEBHOOK_ALLOW_INSECURE=1 (tests, local receivers).
BOTAUDIT_SECURITY_WEBHOOK_URL_ENV = env.str("BOTAUDIT_SECURITY_WEBHOOK_URL_ENV", default="")
BOTAUDIT_SECURITY_WEBHOOK_MIN_SEVERITY = env.str("BOTAUDIT_SECURITY_WEBHOOK_MIN_SEVERITY", default="high")
BOTAUDIT_SECURITY_WEBHOOK_FORMAT = env.str("BOTAUDIT_SECURITY_WEBHOOK_FORMAT", default="json")
BOTAUDIT_WEBHOOK_ALLOW_INSECURE = env.bool("BOTAUDIT_WEBHOOK_ALLOW_INSECURE", default=False)
BOTAUDIT_WEBHOOK_TIMEOUT = env.float("BOTAUDIT_WEBHOOK_TIMEOUT", default=10)
BOTAUDIT_WEBHOOK_MAX_RETRIES = env.int("BOTAUDIT_WEBHOOK_MAX_RETRIES", default=5)

# Vault / OpenBao probe (scanners/vault): thresholds and request concurrency.
BOTAUDIT_VAULT_TOKEN_MAX_TTL_DAYS = env.int("BOTAUDIT_VAULT_TOKEN_MAX_TTL_DAYS", default=30)
BOTAUDIT_VAULT_ROTATION_DAYS = env.int("BOTAUDIT_VAULT_ROTATION_DAYS", default=90)
BOTAUDIT_VAULT_WORKERS = env.int("BOTAUDIT_VAULT_WORKERS", default=8)
# A KV mount with at least this many top-level keys is walked by its own unit (vault/units.py); 0: never.
BOTAUDIT_VAULT_KV_FANOUT_KEYS = env.int("BOTAUDIT_VAULT_KV_FANOUT_KEYS", default=200)

# Dashboard (issue 6): a strict Content-Security-Policy header on every response.
MIDDLEWARE += ["botaudit.middleware.ContentSecurityPolicyMiddleware"]

# Dashboard: page values cached per data generation (bumped by every audit, triage and inventory
# write) and viewer scope; this is only the upper bound of an entry's life.
# Off without REDIS_URL: a per-process cache would not see the other web processes' writes.
BOTAUDIT_PAGE_CACHE_SECONDS = env.int("BOTAUDIT_PAGE_CACHE_SECONDS", default=3600 if REDIS_URL else 0)

# REST API (/api/v1/): bearer tokens (hashed) or a session; per-token rate limit; OpenAPI 3.1 schema.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.BearerTokenAuthentication",
                                       "rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.auth.TokenScopes"],
    "DEFAULT_THROTTLE_CLASSES": ["api.auth.PerTokenThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": env.str("BOTAUDIT_API_RATE", default="600/min")},
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer",
                                 "rest_framework.renderers.BrowsableAPIRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "BotAudit API",
    "DESCRIPTION": "Inventory, findings, leaks and audits of a bot fleet. Never a secret value.",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_PERMISSIONS": ["api.auth.TokenScopes"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.errors_document"],
    "ENUM_NAME_OVERRIDES": {"FindingStatusEnum": "scanners.models.Finding.Status",
                            "AuditRunStatusEnum": "scanners.models.AuditRun.Status",
                            "ProbeRunStatusEnum": "scanners.models.ProbeRun.Status",
                            "BotStatusEnum": "inventory.models.Bot.Status"},
}

# Git leak scanner (scanners/git).
vars().update(git_settings(env, cache_dir=VAR_DIR / "git-cache"))  # BOTAUDIT_GIT_* (scanners/git/config.py)

# Error pages and error emails mask every credential-bearing setting, variable and URL (botaudit/reporting.py)
DEFAULT_EXCEPTION_REPORTER_FILTER = "botaudit.reporting.CredentialFilter"
DEFAULT_EXCEPTION_REPORTER = "botaudit.reporting.CredentialReporter"
