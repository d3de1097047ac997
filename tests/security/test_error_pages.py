"""DEBUG's technical 500 page (and the error emails built from the same reporter) never shows a
credential: not DATABASE_URL's password, not a broker or cache URL, not EMAIL_URL, not a
BOTAUDIT_* token or key, not any setting, environment variable or local variable holding a URL
with userinfo."""

import sys

import pytest
from django.test import RequestFactory
from django.views.debug import technical_500_response

CANARY = "hunter2" + "canary"  # built at run time: the page also shows this source


def _error_page(**meta):
    request = RequestFactory().get("/boom/", **meta)
    try:
        clone_url = f"https://bot:{CANARY}@git.example.com/x.git"  # noqa: F841 - a frame local
        raise RuntimeError("boom")
    except RuntimeError:
        response = technical_500_response(request, *sys.exc_info())
    return response.content.decode()


@pytest.fixture
def credentials_everywhere(settings, monkeypatch):
    settings.DEBUG = True
    settings.DATABASE_URL = f"postgres://botaudit:{CANARY}@db:5432/botaudit"
    settings.REDIS_URL = f"redis://:{CANARY}@redis:6379/0"
    settings.CELERY_BROKER_URL = f"redis://:{CANARY}@redis:6379/0"
    settings.CELERY_RESULT_BACKEND = f"redis://:{CANARY}@redis:6379/1"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"redis://:{CANARY}@redis:6379/0"}}
    settings.EMAIL_URL = f"smtp+tls://mailer:{CANARY}@smtp.example.com:587"
    settings.BOTAUDIT_FINGERPRINT_KEY = CANARY
    settings.BOTAUDIT_GIT_TOKEN = CANARY
    settings.SOME_UPSTREAM = {"endpoint": [f"https://svc:{CANARY}@api.example.com/v1"]}
    for name in ("DATABASE_URL", "REDIS_URL", "EMAIL_URL", "BOTAUDIT_GIT_TOKEN", "VAULT_TOKEN"):
        monkeypatch.setenv(name, f"https://u:{CANARY}@h/" if name.endswith("URL") else CANARY)


def test_the_technical_500_page_masks_every_credential(credentials_everywhere):
    import os

    page = _error_page(**{name: os.environ[name] for name in ("DATABASE_URL", "REDIS_URL", "EMAIL_URL",
                                                                "BOTAUDIT_GIT_TOKEN", "VAULT_TOKEN")})
    assert "RuntimeError" in page and "DATABASE_URL" in page and "SOME_UPSTREAM" in page  # the page rendered
    assert CANARY not in page
    assert "api.example.com" in page  # a URL keeps its host, only the userinfo is masked


def test_the_plain_text_report_masks_them_too(credentials_everywhere):
    from django.views.debug import get_exception_reporter_class

    request = RequestFactory().get("/boom/")
    try:
        raise RuntimeError(f"fetch https://u:{CANARY}@h/x failed")
    except RuntimeError:
        text = get_exception_reporter_class(request)(request, *sys.exc_info()).get_traceback_text()
    assert "DATABASE_URL" in text and CANARY not in text
