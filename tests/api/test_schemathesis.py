"""schemathesis against the generated OpenAPI schema: every operation, every persona's token — no
5xx, and every response matches the schema (status codes, content types, bodies)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from botaudit.wsgi import application

PERSONAS = ["viewer_a", "viewer_b", "auditor", "auditor_read_only"]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture
def keep_connection():
    """The WSGI handler closes the database connection after each request; Django's test client
    stops that, so must we (the test's transaction holds the world)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _schema():
    """The schema drf-spectacular serves at /api/v1/schema/, generated in-process (no request)."""
    from drf_spectacular.generators import SchemaGenerator

    loaded = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
    loaded.app = application  # calls go through the WSGI app, as `from_wsgi` does
    return loaded.exclude(path="/api/v1/schema/")  # the schema itself: drf-spectacular's, not ours


schema = _schema()


@schema.parametrize()
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_for_every_persona(case, tokens, settings_nocache, keep_connection):
    for persona in PERSONAS:
        case.call_and_validate(headers={"Authorization": f"Bearer {tokens[persona]}", "Host": "testserver"},
                               checks=CHECKS)


@pytest.fixture
def settings_nocache(settings):
    """No rate limit and no in-process audit during fuzzing (a generated POST may start one)."""
    from api.auth import PerTokenThrottle

    settings.REDIS_URL = ""
    old = PerTokenThrottle.THROTTLE_RATES
    PerTokenThrottle.THROTTLE_RATES = {"token": "100000/min"}
    yield
    PerTokenThrottle.THROTTLE_RATES = old
