from django.contrib import admin

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "read_only", "created", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "created", "last_used_at")
    search_fields = ("prefix", "user__email", "name")
