"""Imports every probe kind so it registers itself. Add a kind here."""

from .fleet import probe as _fleet  # noqa: F401
from .git import probe as _git  # noqa: F401
