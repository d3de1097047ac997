from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import include, path

from api import pages as api_pages


@login_not_required
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("api.urls")),
    path("account/tokens/", api_pages.tokens_page, name="api_tokens"),
    path("account/tokens/<slug:prefix>/revoke/", api_pages.token_revoke, name="api_token_revoke"),
    path("", include("dashboard.urls")),
]
