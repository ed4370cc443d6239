"""Check the audit hash chain and report the first break."""

from django.core.management.base import BaseCommand, CommandError

from audit.models import Event
from audit.services import verify_chain


class Command(BaseCommand):
    help = "Verify that no audit event was altered, removed or inserted out of order."

    def handle(self, *args, **options):
        ok, broken, why = verify_chain()
        if not ok:
            raise CommandError(f"Audit chain broken at event {broken.pk}: {why}.")
        self.stdout.write(
            self.style.SUCCESS(f"Audit chain intact: {Event.objects.count()} events.")
        )
