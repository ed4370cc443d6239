"""The background worker that outlives a database outage (``manage.py run_worker``).

django-tasks-db's ``db_worker`` exits for good on the first ``OperationalError`` that is not
SQLite's "database is locked": a database restart stopped every e-mail and webhook until
someone restarted the worker. ``ResilientWorker`` runs the same loop and, when the database
fails (``OperationalError`` / ``InterfaceError``, at connect time or mid-query), logs it,
waits with exponential backoff (``--min-backoff`` … ``--max-backoff`` seconds) until the
database answers again, logs that, and carries on — nobody has to act.

A task cut short by the outage is not lost: the task this worker was running when the
database failed (left ``RUNNING``, or recorded as ``FAILED`` with a database error) goes back
to the queue once the database is back, up to ``MAX_CLAIMS`` runs in all. Tasks therefore run
at least once; webhook deliveries carry an id that receivers use to drop duplicates.
"""

import contextlib
import logging
import time

from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("specgate.worker")

DATABASE_ERRORS = (OperationalError, InterfaceError)
DATABASE_ERROR_PATHS = {f"{cls.__module__}.{cls.__qualname__}" for cls in DATABASE_ERRORS}
pause = time.sleep  # the backoff's wait (tests count it instead)
# A task the database failed this many times is left FAILED (its traceback says why).
MAX_CLAIMS = 10


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


class ResilientWorker(Worker):
    def __init__(self, *, min_backoff: float = 0.5, max_backoff: float = 30.0, **kwargs):
        super().__init__(**kwargs)
        self.min_backoff = min_backoff
        self.max_backoff = max(max_backoff, min_backoff)
        self.interrupted: set = set()  # tasks the database cut short, to run again
        self.current = None
        self.outages = 0

    def run(self) -> None:
        while True:
            try:
                self.requeue_interrupted()
                return super().run()  # returns on --batch / --max-tasks; signals exit
            except DATABASE_ERRORS as exc:
                if self.current is not None:
                    self.interrupted.add(self.current)
                    self.current = None
                    self.running_task = False
                self.startup_delay = False
                self.wait_for_database(exc)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        self.current = db_task_result.pk
        super().run_task(db_task_result)  # a database error here escapes to run()
        self.current = None
        if (
            db_task_result.status == TaskResultStatus.FAILED
            and db_task_result.exception_class_path in DATABASE_ERROR_PATHS
        ):
            # The task failed because the database did, not because of itself.
            self.interrupted.add(db_task_result.pk)
            self.requeue_interrupted()

    def wait_for_database(self, exc: BaseException) -> None:
        self.outages += 1
        delay = self.min_backoff
        attempt = 0
        started = time.monotonic()
        logger.warning(
            "database unavailable (%s); worker %s waits and retries",
            _first_line(exc),
            self.worker_id,
        )
        while True:
            attempt += 1
            pause(delay)
            try:
                self._probe()
            except DATABASE_ERRORS as again:
                logger.warning(
                    "database still unavailable after %.1f s (attempt %d: %s); next try in %.1f s",
                    time.monotonic() - started,
                    attempt,
                    _first_line(again),
                    min(delay * 2, self.max_backoff),
                )
                delay = min(delay * 2, self.max_backoff)
                continue
            logger.warning(
                "database available again after %.1f s; worker %s resumes",
                time.monotonic() - started,
                self.worker_id,
            )
            return

    @staticmethod
    def _probe() -> None:
        for connection in connections.all(initialized_only=True):
            with contextlib.suppress(*DATABASE_ERRORS):
                connection.close()  # a connection the outage broke cannot be reused
        close_old_connections()
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")

    def requeue_interrupted(self) -> None:
        """Put the tasks the database cut short back in the queue (while they are still ours:
        RUNNING, or FAILED with a database error). Forgotten only once that is done: if the
        database fails again meanwhile, the next recovery tries again."""
        for pk in sorted(self.interrupted, key=str):
            task = DBTaskResult.objects.filter(pk=pk).first()
            if task is None or task.status not in (
                TaskResultStatus.RUNNING,
                TaskResultStatus.FAILED,
            ):
                self.interrupted.discard(pk)
                continue
            if len(task.worker_ids) >= MAX_CLAIMS:
                logger.error(
                    "task %s failed %d times on database errors; left as it is", pk, MAX_CLAIMS
                )
                self.interrupted.discard(pk)
                continue
            DBTaskResult.objects.filter(pk=pk, status=task.status).update(
                status=TaskResultStatus.READY,
                started_at=None,
                finished_at=None,
                return_value=None,
                exception_class_path="",
                traceback="",
            )
            self.interrupted.discard(pk)
            logger.warning(
                "task %s (%s) was cut short by the outage: queued again", pk, task.task_path
            )
