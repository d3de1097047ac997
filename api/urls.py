from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from . import schema as _schema  # noqa: F401 - the bearer-token scheme for drf-spectacular (not at start-up:
from . import views  # it pulls in requests, which start-up must not load)

router = DefaultRouter()
router.register("teams", views.TeamViewSet, basename="api-team")
router.register("bots", views.BotViewSet, basename="api-bot")
router.register("findings", views.FindingViewSet, basename="api-finding")
router.register("leaks", views.LeakViewSet, basename="api-leak")
router.register("audit-runs", views.AuditRunViewSet, basename="api-audit-run")
router.register("probe-runs", views.ProbeRunViewSet, basename="api-probe-run")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("checks/", views.CheckList.as_view(), name="api-checks"),
    path("", include(router.urls)),
    re_path(r"", views.not_found),
]


def _token_or_session(patterns):
    """DRF authenticates API requests itself (bearer token or session) and answers 401/403, so the
    site-wide login redirect does not apply here."""
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            login_not_required(pattern.callback)
        else:
            _token_or_session(pattern.url_patterns)
    return patterns


urlpatterns = _token_or_session(urlpatterns)
