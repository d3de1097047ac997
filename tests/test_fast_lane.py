"""`make test-fast` needs no service: its settings use SQLite in memory and no broker whatever the
environment says, and the Makefile runs only tests marked `fast` with them."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast
ROOT = Path(__file__).resolve().parent.parent
PROBE = ("import json, django; from django.conf import settings; django.setup(); "
         "print(json.dumps([settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME'], "
         "settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER, settings.CACHES['default']['BACKEND']]))")


def test_fast_settings_ignore_the_services_in_the_environment():
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="botaudit.settings_fast",
               DATABASE_URL="postgres://postgres@127.0.0.1:1/unreachable", REDIS_URL="redis://127.0.0.1:1/0")
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=True).stdout
    engine, name, broker, eager, cache = json.loads(out)
    assert (engine, name, broker, eager) == ("django.db.backends.sqlite3", ":memory:", "memory://", True)
    assert cache.endswith("LocMemCache")


def test_makefile_runs_only_fast_tests_with_the_fast_settings():
    target = re.search(r"^test-fast:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert target and "--ds=botaudit.settings_fast" in target.group(1) and "-m fast" in target.group(1)
