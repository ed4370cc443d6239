"""manage.py grant_curator EMAIL [--revoke] [--as EMAIL]"""

from django.core.management.base import BaseCommand

from accounts.management.acting import acting_user, add_acting_argument, refusals_as_command_errors
from accounts.services import curator_set


class Command(BaseCommand):
    help = (
        "Make a user a curator (the curator group, and staff to reach the checklist admin), "
        "or with --revoke take it away. Curators manage checklists and nothing else."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="the user's e-mail address")
        parser.add_argument("--revoke", action="store_true", help="take the curator role away")
        add_acting_argument(parser)

    def handle(self, *args, email, revoke, as_email, **options):
        actor = acting_user(as_email)
        with refusals_as_command_errors():
            user, changed = curator_set(actor=actor, email=email, curator=not revoke)
        if not changed:
            state = "is not a curator" if revoke else "is already a curator"
            self.stdout.write(f"{user.email} {state}: nothing changed.")
        elif revoke:
            self.stdout.write(self.style.SUCCESS(f"{user.email} is no longer a curator."))
        else:
            self.stdout.write(self.style.SUCCESS(f"{user.email} is now a curator."))
