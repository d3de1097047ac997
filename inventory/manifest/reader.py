"""Typed field access over one YAML mapping, reporting problems with path and line."""

import datetime

from inventory.text import control_problem

MISSING = object()
_KIND_NAMES = {
    type(None): "null", bool: "boolean", int: "integer", float: "number", str: "string",
    bytes: "binary", datetime.date: "date", datetime.datetime: "timestamp",
}


class Reader:
    """Reads fields of one mapping (`data`, a LineDict) found at `prefix` (e.g. `bots[3]`).

    Every failed read is reported to `sink.error(line, field, message)` and clears `ok`.
    """

    def __init__(self, sink, data, prefix):
        self.sink = sink
        self.data = data
        self.prefix = prefix
        self.line = getattr(data, "line", None)
        self.ok = True
        for key, line in getattr(data, "duplicate_keys", ()):
            self.sink.error(line, self.path(key), "duplicate key (given more than once)")
            self.ok = False
        for key in data:
            if isinstance(key, str) and (problem := control_problem(key)):
                self.fail(key, f"field name: {problem}")

    @staticmethod
    def kind_of(value):
        if isinstance(value, dict):
            return "a mapping"
        if isinstance(value, list | tuple | set):
            return "a list"
        return _KIND_NAMES.get(type(value), type(value).__name__)

    def path(self, key):
        return f"{self.prefix}.{key}" if self.prefix else str(key)

    def line_of(self, key):
        return self.data.line_of(key) if hasattr(self.data, "line_of") else self.line

    def fail(self, key, message):
        self.sink.error(self.line_of(key), self.path(key), message)
        self.ok = False

    def fail_item(self, key, index, message):
        items = self.data[key]
        line = items.line_of(index) if hasattr(items, "line_of") else self.line_of(key)
        self.sink.error(line, f"{self.path(key)}[{index}]", message)
        self.ok = False

    def only(self, *keys):
        """Report keys that are not among `keys` (typos would otherwise be silently ignored)."""
        for key in self.data:
            if key not in keys:
                self.fail(key, f"unknown field (expected one of {', '.join(keys)})")

    def _get(self, key, required):
        """The value under `key`, or MISSING when absent (or null and optional)."""
        if key not in self.data or (self.data[key] is None and not required):
            if required:
                self.sink.error(self.line, self.path(key), "missing required field")
                self.ok = False
            return MISSING
        return self.data[key]

    def string(self, key, *, required=False, default="", max_length=None, check=None, multiline=False):
        """Every string field is read here: type, control characters, emptiness, length, `check`."""
        value = self._get(key, required)
        if value is MISSING:
            return None if required else default
        if not isinstance(value, str):
            self.fail(key, f"expected a string, got {self.kind_of(value)}")
            return None
        if problem := control_problem(value, multiline=multiline):
            self.fail(key, problem)
            return None
        if required and not value.strip():
            self.fail(key, "must not be empty")
            return None
        if max_length and len(value) > max_length:
            self.fail(key, f"longer than {max_length} characters")
            return None
        if value and check and (problem := check(value)):
            self.fail(key, problem)
            return None
        return value

    def choice(self, key, values, *, required=False, default="", label="value"):
        value = self.string(key, required=required, default=default)
        if value is not None and key in self.data and value not in values:
            self.fail(key, f"unknown {label} '{value}' (expected one of {', '.join(values)})")
            return None
        return value

    def boolean(self, key, *, default):
        value = self._get(key, False)
        if value is MISSING:
            return default
        if not isinstance(value, bool):
            self.fail(key, f"expected true or false, got {self.kind_of(value)}")
            return None
        return value

    def integer(self, key, *, default=None, minimum=None, maximum=None):
        value = self._get(key, False)
        if value is MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"expected an integer, got {self.kind_of(value)}")
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.fail(key, f"must be between {minimum} and {maximum}")
            return None
        return value

    def list(self, key, *, default):
        value = self._get(key, False)
        if value is MISSING:
            return default
        if not isinstance(value, list):
            self.fail(key, f"expected a list, got {self.kind_of(value)}")
            return None
        return value

    def string_list(self, key, *, default, check=None, unique=None, casefold=False):
        """A list of non-empty strings (None when any item is not); `unique` names what must not repeat."""
        if key not in self.data or self.data[key] is None:
            return default
        items = self.list(key, default=default)
        if items is None:
            return None
        seen, ok = set(), True
        for index, item in enumerate(items):
            problem = self._item_problem(item, check)
            folded = item.lower() if casefold and problem is None else item
            if problem is None and unique and folded in seen:
                problem = f"duplicate {unique} '{item}'"
            if problem:
                self.fail_item(key, index, problem)
                ok = False
            else:
                seen.add(folded)
        return list(items) if ok else None

    def _item_problem(self, item, check):
        if not isinstance(item, str):
            return f"expected a string, got {self.kind_of(item)}"
        if not item.strip():
            return "must not be empty"
        return control_problem(item) or (check(item) if check else None)

    def typed(self, key, kind):
        """Check a known free-form option: str, str_or_null or str_list."""
        if kind == "str_list":
            return self.string_list(key, default=None)
        if self.data.get(key) is None:
            if kind != "str_or_null":
                self.fail(key, "expected a string, got null")
            return None
        return self.string(key, required=True)
