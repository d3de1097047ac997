"""The django-tables2 optimisation is explicit and version-guarded: these tests fail when the pin,
the installed version or the patched function changes, so an upgrade re-examines the patch."""

import hashlib
import inspect
import re
from importlib.metadata import version
from pathlib import Path

import pytest
from django_tables2 import utils

from dashboard import tables_speedup
from dashboard.tables_fleet import BotTable

pytestmark = pytest.mark.fast
ROOT = Path(__file__).resolve().parents[2]
# sha256 of the source of django_tables2.utils.signature in 3.0.1: the function the patch wraps.
SIGNATURE_SOURCE_SHA256 = "448d922c8dcc0c9e9e6660aaf7ead5fbe5e579fe5a6a9c0c83b5cb473236de8d"


def test_guarded_version_is_the_pinned_and_installed_one():
    pin = re.search(r"^django-tables2==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M)
    assert pin and pin.group(1) == tables_speedup.GUARDED_VERSION == version("django-tables2")


def test_patch_target_is_unchanged_and_still_looked_up_by_name():
    source = inspect.getsource(tables_speedup._original)
    assert hashlib.sha256((source.rstrip("\n") + "\n").encode()).hexdigest() == SIGNATURE_SOURCE_SHA256
    assert tables_speedup._original.__module__ == "django_tables2.utils"
    # call_with_appropriate reads the module global on each call, so replacing it takes effect
    assert "signature" in utils.call_with_appropriate.__code__.co_names


def test_installed_by_the_app_and_same_answers_as_the_original():
    assert tables_speedup.installed()  # DashboardConfig.ready ran install()
    table = BotTable([])
    bound = [getattr(column.column, "render", None) for column in table.columns]
    bound = [fn for fn in bound if getattr(fn, "__func__", None)]
    assert bound, "BotTable has render methods to remember"
    for fn in bound:
        assert utils.signature(fn) == tables_speedup._original(fn)
        assert utils.signature(fn) is utils.signature(fn)  # remembered
    plain = lambda value, record: value  # noqa: E731
    assert utils.signature(plain) == (("value", "record"), None)


def test_other_versions_are_left_alone(monkeypatch):
    monkeypatch.setattr(tables_speedup, "version", lambda name: "3.1.0")
    tables_speedup.uninstall()
    try:
        assert tables_speedup.install() is False and not tables_speedup.installed()
        assert utils.signature is tables_speedup._original
    finally:
        monkeypatch.undo()
        assert tables_speedup.install() is True
