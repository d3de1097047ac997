"""django-tables2 computes inspect.signature() of a column's render function for every cell; at 250
rows x 10 columns that was a quarter of the page time. The signature of a function does not change,
so remember it (keyed by the underlying function and whether it is bound)."""

from django_tables2 import utils

_uncached = utils.signature
_memo: dict = {}


def signature(fn):
    func = getattr(fn, "__func__", None)
    if func is None:  # plain functions and lambdas: not worth remembering
        return _uncached(fn)
    key = (func, type(fn.__self__))
    found = _memo.get(key)
    if found is None:
        if len(_memo) > 4096:
            _memo.clear()
        found = _memo[key] = _uncached(fn)
    return found


utils.signature = signature
