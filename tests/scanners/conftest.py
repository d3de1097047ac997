"""A test probe kind whose observations and failure mode the test controls."""

import pytest

from inventory.models import Connector
from scanners import registry
from scanners.models import Category, Severity
from scanners.registry import Collected, Hit, ProbeKind, check


class Behaviour:
    def __init__(self):
        self.subjects = []  # [(subject, bot_id)]
        self.error = None  # exception to raise from collect
        self.partial = []  # errors that make the probe partial


BEHAVIOUR = Behaviour()


@check(id="testprobe.thing.bad", severity=Severity.HIGH, category=Category.HYGIENE, title="Bad thing",
       remediation="Fix it.", owasp="NHI7")
def thing_bad(observations, ctx):
    for subject, bot_id in observations:
        yield Hit(subject=subject, bot_id=bot_id, evidence={"subject": subject})


def collect(connector, ctx):
    if BEHAVIOUR.error:
        raise BEHAVIOUR.error
    return Collected(observations=list(BEHAVIOUR.subjects), api_calls=3, errors=list(BEHAVIOUR.partial))


@pytest.fixture
def test_probe():
    BEHAVIOUR.__init__()
    registry.register(ProbeKind(kind="testprobe", collect=collect, checks=[thing_bad]))
    yield BEHAVIOUR
    registry.unregister("testprobe")


@pytest.fixture
def test_connector(db, test_probe):
    return Connector.objects.create(name="test-conn", kind="testprobe")
