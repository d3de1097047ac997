from django.core.management.base import BaseCommand

from scanners.services.schedules import schedules_setup


class Command(BaseCommand):
    help = "Create BotAudit's periodic tasks (idempotent; never overwrites edits made in the admin)."

    def handle(self, *args, **options):
        for name, created in schedules_setup():
            self.stdout.write(f"{'created' if created else 'kept'}: {name}")
