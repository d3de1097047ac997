from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Dashboard"

    def ready(self):
        from . import tables_speedup
        from .cache import signals_connect

        signals_connect()
        tables_speedup.install()  # explicit and version-guarded; see the module
