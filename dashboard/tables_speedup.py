"""An explicit, version-guarded optimisation of django-tables2 (installed by DashboardConfig.ready).

django-tables2 3.0.1 calls `utils.signature(fn)` (an `inspect.signature` walk) for every cell it
renders through `call_with_appropriate`; at 250 rows x 10 columns that was a quarter of the page
time. A function's signature does not change, so `install()` replaces `utils.signature` with one
that remembers it for bound methods (keyed by the underlying function and the class it is bound to).

Only for the pinned version (requirements.txt): with any other version `install()` leaves
django-tables2 alone and says so in the log. tests/dashboard/test_tables_speedup.py fails when the
pin, the installed version or the patched function changes, so an upgrade re-examines the patch."""

from __future__ import annotations

import logging
from importlib.metadata import version

from django_tables2 import utils

GUARDED_VERSION = "3.0.1"
log = logging.getLogger(__name__)
_original = utils.signature
_memo: dict = {}


def signature(fn):
    func = getattr(fn, "__func__", None)
    if func is None:  # plain functions and lambdas: not worth remembering
        return _original(fn)
    key = (func, type(fn.__self__))
    found = _memo.get(key)
    if found is None:
        if len(_memo) > 4096:
            _memo.clear()
        found = _memo[key] = _original(fn)
    return found


def installed() -> bool:
    return utils.signature is signature


def install() -> bool:
    """Patch `django_tables2.utils.signature` when the installed version is GUARDED_VERSION."""
    found = version("django-tables2")
    if found != GUARDED_VERSION:
        log.warning("django-tables2 %s is not %s: render signatures are not remembered", found, GUARDED_VERSION)
        return False
    utils.signature = signature
    return True


def uninstall() -> None:
    utils.signature = _original
    _memo.clear()
