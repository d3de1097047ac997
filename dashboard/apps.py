from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Dashboard"

    def ready(self):
        from . import tables_speedup

        tables_speedup.install()  # explicit and version-guarded; see the module
