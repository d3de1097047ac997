import time

from django.core.management.base import BaseCommand, CommandError

from devtools.bench import bench_reset, bench_seed
from inventory.models import Bot


class Command(BaseCommand):
    help = "Seed a large synthetic fleet for benchmarks (10,000 bots, 40,000 credentials, 200,000 findings)."

    def add_arguments(self, parser):
        parser.add_argument("--bots", type=int, default=10_000)
        parser.add_argument("--credentials-per-bot", type=int, default=4)
        parser.add_argument("--findings-per-bot", type=int, default=20)
        parser.add_argument("--teams", type=int, default=20)
        parser.add_argument("--reset", action="store_true",
                            help="Delete every team, bot, credential, finding, run and score first.")

    def handle(self, *args, bots, credentials_per_bot, findings_per_bot, teams, reset=False, **options):
        if reset:
            bench_reset()
        elif Bot.objects.exists():
            raise CommandError("this database already holds bots; seed_bench is for an empty benchmark database "
                               "(use --reset to wipe the inventory and findings first)")
        started = time.perf_counter()
        counts = bench_seed(bots=bots, credentials_per_bot=credentials_per_bot, findings_per_bot=findings_per_bot,
                            teams=teams)
        took = time.perf_counter() - started
        self.stdout.write(", ".join(f"{v:,} {k}" for k, v in counts.items()) + f" seeded in {took:.1f} s")
