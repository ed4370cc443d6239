"""manage.py create_user EMAIL [--name NAME] [--password-env VAR | --password-stdin |
--no-password] [--as EMAIL]

The password never comes from the command line itself (it would stay in the shell's history
and the process list): from an environment variable, from standard input, or typed at a prompt.
"""

import getpass
import os
import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.management.acting import acting_user, add_acting_argument, refusals_as_command_errors
from accounts.services import user_create


class Command(BaseCommand):
    help = (
        "Create a user (no role anywhere yet: add them to projects with add_member, or make "
        "them a curator with grant_curator). Without a password option, asks for one."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="the new user's e-mail address (they sign in with it)")
        parser.add_argument("--name", default="", help="the name shown for them")
        source = parser.add_mutually_exclusive_group()
        source.add_argument(
            "--password-env",
            metavar="VAR",
            help="read the password from this environment variable",
        )
        source.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of standard input",
        )
        source.add_argument(
            "--no-password",
            action="store_true",
            help='no password: they choose one with "Forgot password?"',
        )
        add_acting_argument(parser)

    def handle(self, *args, email, name, password_env, password_stdin, no_password, as_email, **o):
        actor = acting_user(as_email)
        password = self._password(password_env, password_stdin, no_password)
        with refusals_as_command_errors():
            user = user_create(actor=actor, email=email, display_name=name, password=password)
        how = "no password yet" if password is None else "with a password"
        self.stdout.write(self.style.SUCCESS(f"Created {user.email} ({how})."))

    def _password(self, env: str | None, stdin: bool, none: bool) -> str | None:
        if none:
            return None
        if env:
            value = os.environ.get(env)
            if not value:
                raise CommandError(f"--password-env: the environment variable {env} is not set.")
            return value
        if stdin:
            value = sys.stdin.readline().rstrip("\r\n")
            if not value:
                raise CommandError("--password-stdin: standard input gave no password.")
            return value
        if not sys.stdin.isatty():
            raise CommandError(
                "No password: give --password-env VAR, --password-stdin or --no-password "
                "(standard input is not a terminal to ask at)."
            )
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ.")
        return first
