"""``manage.py run_worker``: the background worker to run in production (Procfile, systemd).

django-tasks-db's ``db_worker`` with the same options, that survives a database outage and
resumes by itself (config/worker.py). By default it serves every queue the task backend
declares (``TASKS["default"]["QUEUES"]``: e-mails on ``default``, webhook deliveries on
``webhooks``); ``--queue-name`` picks some, to run one worker per queue.
"""

import os

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.compat import task_backends
from django_tasks_db.management.commands import db_worker

from config.worker import ResilientWorker


class Command(db_worker.Command):
    help = (
        "Run the background worker (every queue of the task backend by default); it waits "
        "out a database outage and resumes by itself."
    )

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(queue_name=None)
        parser.add_argument(
            "--min-backoff",
            type=db_worker.valid_interval,
            default=0.5,
            help="First wait (seconds) before trying the database again after it failed.",
        )
        parser.add_argument(
            "--max-backoff",
            type=db_worker.valid_interval,
            default=30.0,
            help="Longest wait (seconds) between tries while the database is down.",
        )

    def handle(self, *, verbosity, queue_name, exclude_queues, reload, batch, **options) -> None:
        self.configure_logging(verbosity)
        backend_name = options["backend_name"]
        if not queue_name:
            queue_name = ",".join(sorted(task_backends[backend_name].queues))
        excluded = exclude_queues.split(",") if exclude_queues else []
        queues = queue_name.split(",")
        if excluded and "*" not in queues:
            raise db_worker.CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = ResilientWorker(
            queue_names=queues,
            interval=options["interval"],
            batch=batch,
            backend_name=backend_name,
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded,
            min_backoff=options["min_backoff"],
            max_backoff=options["max_backoff"],
        )
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
