from django.urls import path

from dashboard.views import digest, findings, fleet

urlpatterns = [
    path("", fleet.overview, name="overview"),
    path("bots/", fleet.BotListView.as_view(), name="bot_list"),
    path("bots/<slug:slug>/", fleet.bot_detail, name="bot_detail"),
    path("findings/", findings.FindingListView.as_view(), name="finding_list"),
    path("findings/<int:pk>/", findings.finding_detail, name="finding_detail"),
    path("findings/triage/", findings.finding_triage, name="finding_triage"),
    path("runs/", findings.RunListView.as_view(), name="run_list"),
    path("runs/start/", findings.audit_start, name="audit_start"),
    path("export/audit.csv", fleet.export_audit_csv, name="export_audit_csv"),
    path("export/audit.xlsx", fleet.export_audit_xlsx, name="export_audit_xlsx"),
    path("export/findings.csv", findings.export_findings_csv, name="export_findings_csv"),
    path("digest/", digest.digest_preview, name="digest_security"),
    path("digest/<slug:team>/", digest.digest_preview, name="digest_team"),
]
