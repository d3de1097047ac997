"""`celery -A tests.scanners.fault_app worker|beat`: BotAudit's Celery app plus the fault-test probe."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "botaudit.settings_test")

import django  # noqa: E402

django.setup()

import scanners.tasks  # noqa: E402,F401 - registers the tasks
from botaudit.celery import app  # noqa: E402,F401
from tests.scanners.fault_probe import kind_register  # noqa: E402

kind_register()
