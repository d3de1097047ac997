import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "botaudit.settings")

app = Celery("botaudit")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
