from django.contrib import admin

from .models import AuditLogEntry, Bot, Connector, Credential, Identity, Owner, Repository, Team


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0


class CredentialInline(admin.TabularInline):
    model = Credential
    extra = 0
    fields = ["name", "store", "ref", "service", "rotation_days", "last_rotated_at", "last_used_at"]
    readonly_fields = ["last_rotated_at", "last_used_at"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "email"]
    search_fields = ["name", "email"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]


@admin.register(Bot)
class BotAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "owner_email", "environment", "status"]
    list_filter = ["team", "environment", "status"]
    search_fields = ["name", "owner_email", "description"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["repositories"]
    inlines = [IdentityInline, CredentialInline]


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ["bot", "kind", "ref"]
    list_filter = ["kind"]
    search_fields = ["ref", "bot__name"]


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    list_display = ["bot", "name", "store", "service", "rotation_days", "last_rotated_at"]
    list_filter = ["store"]
    search_fields = ["name", "ref", "bot__name", "service"]


@admin.register(Repository)
class RepositoryAdmin(admin.ModelAdmin):
    list_display = ["name", "url"]
    search_fields = ["name", "url"]


@admin.register(Connector)
class ConnectorAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "enabled"]
    list_filter = ["kind", "enabled"]


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "action", "target"]
    list_filter = ["action"]
    readonly_fields = ["at", "user", "action", "target", "detail"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Owner)
class OwnerAdmin(admin.ModelAdmin):
    list_display = ["email", "departed"]
    list_filter = ["departed"]
    search_fields = ["email"]
