"""The digest suite's real SMTP server and two-team fleet, reused by the hostile-input tests."""

from tests.scanners.digest.conftest import fleet, smtp  # noqa: F401
