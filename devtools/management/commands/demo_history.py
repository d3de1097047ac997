from django.core.management.base import BaseCommand

from devtools.demo_history import demo_history_seed


class Command(BaseCommand):
    help = ("Seed 12 weeks of demo history: one backdated audit per week through the real pipeline "
            "(run after demo_setup, before the first real audit).")

    def handle(self, *args, **options):
        self.stdout.write(demo_history_seed(progress=lambda line: self.stdout.write(f"  {line}")))
