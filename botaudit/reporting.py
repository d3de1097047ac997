"""Django's error reporter (DEBUG's technical 500 page and the error emails to ADMINS) with every
credential masked: settings, request environment (which holds the process environment under
runserver) and frame variables whose names look secret, or whose text holds a URL with userinfo.

Django's SafeExceptionReporterFilter already masks names with API, TOKEN, KEY, SECRET, PASS or
SIGNATURE; this adds the URL-valued ones (DATABASE_URL, REDIS_URL, EMAIL_URL, broker, result
backend and cache locations, any *_DSN) and redacts userinfo in every other text value.
"""

import re

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from inventory.locations import text_redact


class CredentialFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile(
        r"API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|_URL$|^DATABASE_URL|BROKER|RESULT_BACKEND|LOCATION|DSN",
        flags=re.IGNORECASE,
    )

    def cleanse_setting(self, key, value):
        if isinstance(key, str) and key.upper() in SAFE_URL_SETTINGS:
            return text_redact(value) if isinstance(value, str) else value
        cleansed = super().cleanse_setting(key, value)
        return text_redact(cleansed) if isinstance(cleansed, str) else cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        return [(name, self.cleanse_setting(name, value)) for name, value in
                super().get_traceback_frame_variables(request, tb_frame)]


# URL settings that never hold a credential: shown (still redacted) so the page stays useful
SAFE_URL_SETTINGS = {"BOTAUDIT_BASE_URL", "STATIC_URL", "MEDIA_URL", "LOGIN_URL", "LOGIN_REDIRECT_URL",
                     "LOGOUT_REDIRECT_URL", "FORCE_SCRIPT_NAME"}


class CredentialReporter(ExceptionReporter):
    """Also redacts URLs in the exception message itself (e.g. a driver quoting its DSN)."""

    def get_traceback_data(self):
        data = super().get_traceback_data()
        if isinstance(data.get("exception_value"), str):
            data["exception_value"] = text_redact(data["exception_value"])
        return data
