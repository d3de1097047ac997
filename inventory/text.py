"""The one rule for characters that no inventory string may hold."""

import re

# C0 and C1 controls, DEL, line/paragraph separators and bidirectional overrides ("Trojan Source")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile(r"[\t\n]")


def control_problem(text: str, *, multiline: bool = False) -> str | None:
    """Why `text` is refused (a NUL, a CR, an escape, a bidi override ...), or None. Tab and newline
    are allowed only in `multiline` text (descriptions)."""
    found = _CONTROL.search(text) or (None if multiline else _LINE_BREAKS.search(text))
    if found:
        return f"control character U+{ord(found.group()):04X} at position {found.start() + 1} is not allowed"
    return None


def text_printable(text: str) -> str:
    """`text` for a terminal: every control character (newline included) as a visible escape such as
    \\n or \\x1b, so a hostile file name can neither break a table row nor send escape sequences."""
    return "".join(ch if not (_CONTROL.match(ch) or _LINE_BREAKS.match(ch)) else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    return {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 256
                                                              else f"\\u{ord(ch):04x}")
