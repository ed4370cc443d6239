"""Django's ``flush``, able to empty the append-only tables on PostgreSQL.

The audit trail and the sign-offs refuse TRUNCATE (``audit`` migration 0003) unless the session
setting ``specgate.allow_truncate`` is ``on``. This command, and nothing in the app, sets it
around Django's own flush and resets it afterwards. Django's transactional tests call ``flush``
after every test, so they keep working; ``TRUNCATE`` from any other connection is refused.
"""

from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections


class Command(FlushCommand):
    help = (
        FlushCommand.help + " Empties the audit trail and the sign-offs too: on PostgreSQL "
        "only this command may truncate them (session setting specgate.allow_truncate)."
    )

    def handle(self, **options):
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            return super().handle(**options)
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('specgate.allow_truncate', 'on', false)")
        try:
            return super().handle(**options)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('specgate.allow_truncate', '', false)")
