from django.contrib import admin

from .models import AuditRun, BotScore, Digest, Finding, ProbeRun, WebhookDelivery


class ProbeRunInline(admin.TabularInline):
    model = ProbeRun
    extra = 0
    fields = ["kind", "connector", "status", "started", "finished", "api_calls", "error"]
    readonly_fields = fields
    can_delete = False


@admin.register(AuditRun)
class AuditRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "started", "finished", "status", "trigger"]
    list_filter = ["status", "trigger"]
    inlines = [ProbeRunInline]


@admin.register(ProbeRun)
class ProbeRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "audit_run", "kind", "connector", "status", "api_calls", "finished"]
    list_filter = ["status", "kind"]
    exclude = ["facts"]  # can be large (a Vault kv unit's published secrets paths): not shown raw
    readonly_fields = ["facts_keys"]

    @admin.display(description="facts")
    def facts_keys(self, obj) -> str:
        return ", ".join(f"{k} ({len(v)})" if isinstance(v, list | dict) else k for k, v in (obj.facts or {}).items())


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ["check_id", "severity", "status", "bot", "subject", "last_seen"]
    list_filter = ["status", "severity", "category", "check_id"]
    search_fields = ["subject", "check_id", "bot__name", "fingerprint"]
    readonly_fields = ["fingerprint", "first_seen", "last_seen", "last_probe_run", "scope", "evidence"]
    list_select_related = ["bot"]


@admin.register(BotScore)
class BotScoreAdmin(admin.ModelAdmin):
    list_display = ["bot", "audit_run", "score", "created"]
    list_select_related = ["bot"]


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    list_display = ["group", "week", "status", "attempts", "sent_at"]
    list_filter = ["status", "week"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["audit_run", "target", "status", "attempts", "sent_at"]
    list_filter = ["status", "target"]
    readonly_fields = ["audit_run", "target", "team", "url_env", "format", "counts", "attempts", "error", "created",
                       "sent_at"]
