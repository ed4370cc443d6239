"""manage.py deliver_webhooks: attempt the webhook deliveries (retries) that are due.

Needed only with a task backend that cannot defer tasks (run it from cron); the database task
worker runs retries on time by itself."""

from django.core.management.base import BaseCommand

from webhooks.services import deliver_due


class Command(BaseCommand):
    help = "Attempt webhook deliveries whose next attempt is due."

    def handle(self, *args, **options):
        count = deliver_due()
        self.stdout.write(f"{count} deliver{'y' if count == 1 else 'ies'} attempted.")
