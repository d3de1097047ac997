"""Helpers shared by every spreadsheet export."""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Neutralise spreadsheet formulas: a text cell starting with = + - @ tab or CR gets a leading '.
    Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
