"""The lines a new version of a file adds: the lines of the new blob that are not lines of the
old one (as a set: a moved line is not new). The work follows the size of the change, not the
size of the file: the byte-wise common prefix and suffix of the two blobs are skipped, and a
running {line: occurrences} count of the old blob answers "was this line there?"."""

from __future__ import annotations

from collections import Counter


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length of the longest common prefix of `a` and `b`: exponential then binary search, each
    probe one memcmp without copying."""
    n = min(len(a), len(b))
    view = memoryview(b)
    if a.startswith(view[:n]):
        return n
    lo, hi = 0, 16
    while hi < n and a.startswith(view[:hi]):
        lo, hi = hi, hi * 2
    hi = min(hi, n) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a.startswith(view[:mid]):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """Length (at most `limit`) of the longest common suffix of `a` and `b`."""
    view, end = memoryview(b), len(b)
    if a.endswith(view[end - limit:]):
        return limit
    lo, hi = 0, 16
    while hi < limit and a.endswith(view[end - hi:]):
        lo, hi = hi, hi * 2
    hi = min(hi, limit) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a.endswith(view[end - mid:]):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _lines_between(data: bytes, cut: int, suffix: int) -> list:
    """The lines of `data` that start at or after `cut` and before the last `suffix` bytes' first
    line start."""
    end = data.find(b"\n", len(data) - suffix) if suffix else -1
    if end < 0:
        return data[cut:].split(b"\n")
    return data[cut:end].split(b"\n") if end >= cut else []


def changed_span(old: bytes, new: bytes) -> tuple[int, int]:
    """(cut, suffix): `cut` is a line start in both blobs before which they are equal, and the last
    `suffix` bytes of both are equal too. Every line `new` adds lies in `changed_region`."""
    cut = new.rfind(b"\n", 0, _common_prefix(old, new)) + 1  # a line start in both blobs
    return cut, _common_suffix(old, new, min(len(old), len(new)) - cut)


def changed_region(new: bytes, span: tuple[int, int]) -> bytes:
    """The bytes of the lines of `new` between the common prefix and suffix of `span`."""
    cut, suffix = span
    end = new.find(b"\n", len(new) - suffix) if suffix else -1
    return new[cut:] if end < 0 else new[cut:end]


def added_lines(old: bytes, new: bytes, counts: Counter, span: tuple[int, int] | None = None) -> tuple[int, list]:
    """The lines of `new` (split on newlines) that are not lines of `old`, in order, with repeats:
    (offset of the first candidate line, [(line number counted from there, line)]). `counts`
    ({line: occurrences} in `old`) is updated in place to `new`'s. Lines inside the byte-wise
    common prefix and suffix of both blobs are the same lines in both, so only the lines between
    them are looked up and counted: the cost follows the size of the change, not of the file."""
    cut, suffix = span or changed_span(old, new)
    middle = _lines_between(new, cut, suffix)
    added = [(n, line) for n, line in enumerate(middle, 1) if line not in counts]
    for line in _lines_between(old, cut, suffix):
        left = counts[line] - 1
        if left:
            counts[line] = left
        else:
            del counts[line]
    counts.update(middle)  # Counter.update: counted in C (a third of this function's time in Python)
    return cut, added
