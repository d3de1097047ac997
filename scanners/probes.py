"""Imports every probe kind so it registers itself. Add a kind here."""

from .aws import probe as _aws  # noqa: F401
from .git import probe as _git  # noqa: F401
from .inventory_checks import probe as _inventory  # noqa: F401
from .vault import probe as _vault  # noqa: F401
