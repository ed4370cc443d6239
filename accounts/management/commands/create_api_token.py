"""manage.py create_api_token EMAIL [--read-only] [--expires DAYS] [--name NAME]"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.services import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, token_create
from config.errors import DomainError


class Command(BaseCommand):
    help = "Create a personal API token for a user and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("email", help="the user's e-mail address")
        parser.add_argument("--read-only", action="store_true", help="the token may only read")
        parser.add_argument(
            "--expires",
            type=int,
            default=DEFAULT_TOKEN_DAYS,
            metavar="DAYS",
            help=f"days until the token expires, 1 to {MAX_TOKEN_DAYS} (default {DEFAULT_TOKEN_DAYS})",
        )
        parser.add_argument("--name", default="command line", help="a name to recognise it by")

    def handle(self, *args, email, read_only, expires, name, **options):
        User = get_user_model()
        user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
        if user is None:
            raise CommandError(f"No active user with e-mail {email!r}.")
        try:
            issued = token_create(
                actor=user,
                name=name,
                read_only=read_only,
                expires_in_days=expires,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(issued.raw)
        expiry = issued.token.expires_at.date().isoformat()
        self.stderr.write(
            f"Token '{issued.token.name}' for {user.email} "
            f"({'read-only' if issued.token.read_only else 'read-write'}, expires {expiry}). "
            "Store it now: it is not shown again."
        )
