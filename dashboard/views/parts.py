"""List pages kept as rendered HTML: the filters, the row count and the table of Fleet, Findings and
Leaks are rendered once per data generation, viewer scope and query string (dashboard.cache) and
stored as HTML. A warm request builds no filter set, queryset or table: it renders only the page
shell around the stored parts, with what belongs to the person asking (user name, CSRF tokens,
messages, the triage form). No stored part holds a CSRF token or anything else per user."""

from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from dashboard.cache import cached

TABLE_TEMPLATE = "dashboard/_table.html"


class CachedPartsMixin:
    """For a FilterView + SingleTableMixin list page: `head_template` renders what comes before the
    table (title, exports, filters, count); `template_name` is the shell that places `head` and
    `table` and adds `shell_context()`."""

    head_template: str

    def get(self, request, *args, **kwargs):
        parts = cached(name=f"{type(self).__name__}.parts", user=request.user, params=request.GET.urlencode(),
                       compute=lambda: self.parts_render(request, *args, **kwargs))
        return render(request, self.template_name, {"head": mark_safe(parts["head"]),  # noqa: S308 - our render
                                                    "table": mark_safe(parts["table"]),  # noqa: S308
                                                    **self.shell_context()})

    def parts_render(self, request, *args, **kwargs) -> dict[str, str]:
        context = super().get(request, *args, **kwargs).context_data
        return {"head": str(render_to_string(self.head_template, context, request)),
                "table": str(render_to_string(TABLE_TEMPLATE, context, request))}

    def shell_context(self) -> dict:
        return {}
