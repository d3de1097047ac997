"""Settings for the fast lane (`make test-fast`): pure check and rule tests, no services.

SQLite in memory and no broker, whatever DATABASE_URL / REDIS_URL say, so it runs with no PostgreSQL
or Redis on the machine. Only tests marked `fast` run here; pytest-django refuses database access to
any test that does not ask for it."""

import os

os.environ["DATABASE_URL"] = "sqlite://:memory:"
os.environ["REDIS_URL"] = ""

from .settings_test import *  # noqa: E402,F403
