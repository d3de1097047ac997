"""`manage.py api_token create EMAIL [--expires 90d|never] [--read-only] [--name N]`, `list [EMAIL]`,
`revoke PREFIX`. The token is printed once, on creation; only its hash is kept."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from api.models import ApiToken
from api.tokens import TokenError, api_token_create, api_token_revoke, expiry_parse


class Command(BaseCommand):
    help = "Create, list and revoke API tokens."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create")
        create.add_argument("email")
        create.add_argument("--expires", default=None, help="90d (default), 12h, 30m or never")
        create.add_argument("--read-only", action="store_true")
        create.add_argument("--name", default="")
        listing = sub.add_parser("list")
        listing.add_argument("email", nargs="?")
        revoke = sub.add_parser("revoke")
        revoke.add_argument("prefix")

    def handle(self, *args, verb, **options):
        getattr(self, f"_{verb}")(**options)

    def _user(self, email):
        user = get_user_model().objects.filter(email__iexact=email).first() or \
            get_user_model().objects.filter(username__iexact=email).first()
        if user is None:
            raise CommandError(f"no user {email!r} (create one with `manage.py grant`)")
        return user

    def _create(self, *, email, expires, read_only, name, **_):
        try:
            expires_in = expiry_parse(expires)
        except TokenError as exc:
            raise CommandError(str(exc)) from None
        token, plain = api_token_create(user=self._user(email), name=name, expires_in=expires_in,
                                        read_only=read_only)
        until = token.expires_at.isoformat() if token.expires_at else "never"
        self.stderr.write(f"Token {token.prefix} for {email} ({'read-only' if read_only else 'read-write'}, "
                          f"expires {until}). Shown once; BotAudit keeps only its hash:")
        self.stdout.write(plain)

    def _list(self, *, email=None, **_):
        tokens = ApiToken.objects.select_related("user")
        if email:
            tokens = tokens.filter(user=self._user(email))
        fmt = "{:<10} {:<30} {:<10} {:<26} {:<26} {}"
        self.stdout.write(fmt.format("PREFIX", "USER", "MODE", "EXPIRES", "LAST USED", "STATE"))
        for t in tokens:
            state = "revoked" if t.revoked_at else ("active" if t.active else "expired")
            self.stdout.write(fmt.format(t.prefix, t.user.get_username(), "read-only" if t.read_only else "write",
                                         t.expires_at.isoformat() if t.expires_at else "never",
                                         t.last_used_at.isoformat() if t.last_used_at else "-", state))

    def _revoke(self, *, prefix, **_):
        token = ApiToken.objects.filter(prefix=prefix.removeprefix("bat_")[:8]).first()
        if token is None:
            raise CommandError(f"no token with prefix {prefix!r}")
        changed = api_token_revoke(token=token, actor=None)
        self.stdout.write(f"Token {token.prefix} {'revoked' if changed else 'was already revoked'}.")
