"""Migrate, create demo data and serve: the README's first command."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from reviews.demo import build_demo, refuse_in_production


class Command(BaseCommand):
    help = "Migrate the database, create a demo project with a user per role, and start the server."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--no-serve", action="store_true", help="Prepare the demo data but do not serve."
        )

    def handle(self, *args, addrport, no_serve, **options):
        try:
            refuse_in_production()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        call_command("migrate", interactive=False, verbosity=0)
        accounts = build_demo()
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Sign in with any of these:"))
        for account in accounts:
            self.stdout.write(
                f"  {account.role:<10} {account.email:<24} password: {account.password}"
            )
        if no_serve:
            return
        self.stdout.write(f"Serving on http://{addrport}/ (settings: {settings.SETTINGS_MODULE})")
        call_command("runserver", addrport, use_reloader=False)
