"""Settings for the test suite: real PostgreSQL and Redis on this machine unless told otherwise."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("BOTAUDIT_FINGERPRINT_KEY", "test-only-fingerprint-key")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/botaudit")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from .settings import *  # noqa: E402,F403

# A new database connection per request and task, as threads in the tests (Celery worker, live
# server) would otherwise keep theirs open and block dropping the test database at the end.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast users in tests

if "devtools" not in INSTALLED_APPS:  # noqa: F405
    INSTALLED_APPS += ["devtools"]  # noqa: F405 - demo and bench seeders are exercised by the tests
