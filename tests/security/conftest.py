"""Fixtures reused from the other suites: the digest's real SMTP server and two-team fleet, and the
dashboard's two-team world with a user of every role."""

from tests.dashboard.conftest import login, team_b, users, world  # noqa: F401
from tests.scanners.digest.conftest import fleet, smtp  # noqa: F401
