import sys

from django.core.management.base import BaseCommand, CommandError

from inventory.accounts import ROLES, GrantError, user_grant


class Command(BaseCommand):
    help = "Create or update a dashboard user: role viewer|auditor|admin, optional team membership."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--team", metavar="NAME", help="Add the user to this team (a viewer sees its bots).")
        parser.add_argument("--password-stdin", action="store_true",
                            help="Read the password from standard input (otherwise unusable until reset).")

    def handle(self, *args, email, role, team=None, password_stdin=False, **options):
        password = None
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("--password-stdin: standard input held no password")
        try:
            user, created = user_grant(email=email, role=role, team_name=team, password=password)
        except GrantError as exc:
            raise CommandError(str(exc)) from exc
        verb = "created" if created else "updated"
        where = f", member of {team}" if team else ""
        login = "" if user.has_usable_password() else " (no password yet: set one with changepassword)"
        self.stdout.write(f"{verb} {user.username}: {role}{where}{login}")
