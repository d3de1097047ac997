"""SQL expressions that let the database hand the audit spreadsheet finished text, so the export does
not build a Python object per cell: ISO 8601 timestamps and formula-neutralised text.

Both give exactly what the Python helpers give (`datetime.isoformat()` of an aware UTC datetime and
`inventory.exports.neutralise`) on PostgreSQL and SQLite, the two databases BotAudit runs on.
"""

from __future__ import annotations

from django.db import NotSupportedError
from django.db.models import CharField, F, Func, TextField, Value
from django.db.models.expressions import Case, When
from django.db.models.functions import Coalesce, Concat, Left
from django.db.models.lookups import In

from dashboard.exports import FORMULA_PREFIXES


class IsoText(Func):
    """A datetime as `datetime.isoformat()` of the aware UTC value, e.g.
    `2026-11-20T19:26:00.123456+00:00` (no fraction when the microseconds are 0); NULL stays NULL."""

    output_field = TextField()
    arity = 1

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        # The only '.' in the to_char text is the fraction's, so replace() drops exactly ".000000".
        return (f"(replace(to_char(({sql}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), "
                f"'.000000', '') || '+00:00')", params)

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores an aware datetime on SQLite as str() of the naive UTC value: isoformat with ' '.
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(replace({sql}, ' ', 'T') || '+00:00')", params

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"IsoText: ISO timestamps in SQL exist for PostgreSQL and SQLite, "
                                f"not {connection.vendor}")


def iso_or_blank(expression) -> Coalesce:
    """IsoText, with '' for NULL (what the spreadsheet writes for an unknown date)."""
    return Coalesce(IsoText(expression), Value(""), output_field=TextField())


def neutralised(field: str) -> Case:
    """The text column with a leading ' when it starts with a formula character, as neutralise() does."""
    return Case(
        When(In(Left(F(field), 1), list(FORMULA_PREFIXES)),
             then=Concat(Value("'"), F(field), output_field=CharField())),
        default=F(field), output_field=CharField(),
    )
