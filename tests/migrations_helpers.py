"""Migration tests: move the test database to some migrations, and back to the latest afterwards.

A module that imports `back_to_latest` gets it as an autouse fixture: after each of its tests the
database is migrated forward again, so later migrations' columns exist for every test that follows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets):
    """Migrate to `targets` and return the historical apps of that state."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def migrate_latest():
    """Every app's latest migrations: the schema the live models need."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture(autouse=True)
def back_to_latest():
    yield
    migrate_latest()
