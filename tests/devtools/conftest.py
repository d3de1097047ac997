"""The demo seeders run against the same real services as the probes' tests: reuse their fixtures."""

from tests.scanners.aws.conftest import aws, moto_url  # noqa: F401 - fixtures
from tests.scanners.vault.conftest import bao  # noqa: F401 - fixture
