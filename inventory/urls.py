from django.urls import path

from scanners import views as scanner_views

from . import views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("bots/", views.BotListView.as_view(), name="bot_list"),
    path("bots/<slug:slug>/", views.bot_detail, name="bot_detail"),
    path("findings/", scanner_views.FindingListView.as_view(), name="finding_list"),
    path("findings/<int:pk>/", scanner_views.finding_detail, name="finding_detail"),
    path("findings/triage/", scanner_views.finding_triage, name="finding_triage"),
    path("runs/", scanner_views.RunListView.as_view(), name="run_list"),
    path("runs/start/", scanner_views.audit_start, name="audit_start"),
    path("export/audit.csv", views.export_audit_csv, name="export_audit_csv"),
    path("export/audit.xlsx", views.export_audit_xlsx, name="export_audit_xlsx"),
    path("export/findings.csv", scanner_views.export_findings_csv, name="export_findings_csv"),
]
