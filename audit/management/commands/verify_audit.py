"""Check the audit hash chain and report the first break."""

import argparse
import re

from django.core.management.base import BaseCommand, CommandError

from audit.models import Event
from audit.services import verify_chain

HEAD = re.compile(r"^(?P<id>[1-9][0-9]*):(?P<hash>[0-9a-f]{64})$")


def head_argument(value: str) -> tuple[int, str]:
    match = HEAD.match(value.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError("expected ID:HASH, as printed by verify_audit")
    return int(match["id"]), match["hash"]


class Command(BaseCommand):
    help = (
        "Verify that no audit event was altered, removed or inserted out of order, and print "
        "the head of the chain as ID:HASH. Exits with status 1 and names the first broken "
        "event otherwise. The chain cannot show by itself that its newest events were cut "
        "off (what remains still links up): keep the printed head somewhere the database's "
        "users cannot write (the backup log, a ticket, a printout), and pass it back with "
        "--expect-head ID:HASH. That event must then still be there with the same hash, which "
        "vouches for it and, through the chain, for every event before it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect-head",
            type=head_argument,
            metavar="ID:HASH",
            help="a head printed by an earlier run: fail unless the chain still contains it",
        )

    def handle(self, *args, **options):
        # The head is read before the walk, so the walk (a later snapshot) covers it even
        # while events are being appended.
        head = Event.objects.order_by("-id").values_list("id", "hash").first()
        ok, broken, why = verify_chain()
        if not ok:
            raise CommandError(f"Audit chain broken at event {broken.pk}: {why}.")
        expected = options.get("expect_head")
        if expected is not None:
            expected_id, expected_hash = expected
            found = Event.objects.filter(pk=expected_id).values_list("hash", flat=True).first()
            newest = f"event {head[0]}" if head else "no event"
            if found is None:
                raise CommandError(
                    f"Audit chain cut: event {expected_id}, the expected head, is missing "
                    f"(the newest is {newest}): events were removed from the end."
                )
            if found != expected_hash:
                raise CommandError(
                    f"Audit chain rewritten: event {expected_id} has hash {found}, "
                    f"not the expected {expected_hash}."
                )
        if head is None:
            self.stdout.write(self.style.SUCCESS("Audit chain intact: 0 events."))
            return
        count = Event.objects.filter(pk__lte=head[0]).count()
        self.stdout.write(
            self.style.SUCCESS(f"Audit chain intact: {count} events; head {head[0]}:{head[1]}")
        )
