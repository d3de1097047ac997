import secrets

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from devtools.demo import DEMO_SEEDERS
from devtools.demo_ports import demo_connectors_point, demo_port

DEMO_USER = "demo@example.com"


class Command(BaseCommand):
    help = "Set up the demo: import examples/fleet.yaml, seed the demo services, create the demo login."

    def add_arguments(self, parser):
        parser.add_argument("--print-login", action="store_true",
                            help="Only (re)create the demo login and print it.")

    def handle(self, *args, print_login=False, **options):
        if not print_login:
            call_command("fleet", "import", "examples/fleet.yaml", stdout=self.stdout)
            for line in demo_connectors_point():  # DEMO_AWS_PORT / DEMO_VAULT_PORT
                self.stdout.write(f"demo endpoint: {line}")
            for seeder in DEMO_SEEDERS:
                self.stdout.write(seeder(), ending="\n")
            return
        user, _ = get_user_model().objects.get_or_create(username=DEMO_USER, defaults={"email": DEMO_USER})
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.is_staff = user.is_superuser = True
        user.save()
        self.stdout.write(self.style.SUCCESS(
            f"\nDemo login: {DEMO_USER} / {password}\n"
            f"Dashboard: http://127.0.0.1:{demo_port('web')}/  (admin: /admin/)\n"
        ))
