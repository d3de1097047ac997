from django.apps import AppConfig


class ScannersConfig(AppConfig):
    name = "scanners"
    verbose_name = "Audit findings"

    def ready(self):
        from . import probes  # noqa: F401  (registers every probe kind)
