"""``manage.py run_worker`` waits out a database outage and resumes by itself (django-tasks-db's
``db_worker`` exits for good on the first OperationalError). The database is made to fail
inside the process here; tests/ops/test_outage_faults.py cuts it off for real."""

import logging
import threading

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from config import worker as worker_module
from tests.ops import tasks
from tests.ops.tasks import echo, fails_on_the_database_once

DB_TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "webhooks"]}
}

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("db_tasks")]


@pytest.fixture
def db_tasks():
    with override_settings(TASKS=DB_TASKS):
        yield


class Outage:
    """Every query fails while ``down``; the worker's backoff waits are counted, not slept, and
    the database is back after ``waits_down`` of them."""

    def __init__(self, monkeypatch, waits_down: int):
        self.down = True
        self.waits = []
        self.waits_down = waits_down
        monkeypatch.setattr(worker_module, "pause", self.pause)

    def pause(self, seconds):
        self.waits.append(seconds)
        if len(self.waits) >= self.waits_down:
            self.down = False

    def refuse(self, execute, sql, params, many, context):
        if self.down:
            raise OperationalError("could not connect to server: Connection refused")
        return execute(sql, params, many, context)


def run_worker(outage=None, **options):
    """Run the command in a thread (its own connection, with the outage's failures), bounded."""
    failures = []

    def work():
        try:
            if outage is None:
                call_command("run_worker", *ARGS, **options)
            else:
                with connection.execute_wrapper(outage.refuse):
                    call_command("run_worker", *ARGS, **options)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the worker did not finish its tasks"
    assert failures == []


ARGS = ("--no-startup-delay", "--interval=0", "--no-reload", "--verbosity=0")


@pytest.fixture(autouse=True)
def no_signal_handlers(monkeypatch):
    """Signal handlers can only be installed from the main thread."""
    monkeypatch.setattr(worker_module.ResilientWorker, "configure_signals", lambda self: None)


def status(result) -> str:
    return DBTaskResult.objects.get(pk=result.id).status


def test_the_worker_waits_out_an_outage_and_runs_the_queued_tasks(monkeypatch, caplog):
    queued = [echo.using(queue_name=q).enqueue(f"on {q}") for q in ("default", "webhooks")]
    outage = Outage(monkeypatch, waits_down=4)
    with caplog.at_level(logging.WARNING, logger="specgate.worker"):
        run_worker(outage, max_tasks=2)
    assert [status(r) for r in queued] == ["SUCCESSFUL", "SUCCESSFUL"]
    assert outage.waits == [0.5, 1.0, 2.0, 4.0]  # exponential backoff while down
    messages = [r.getMessage() for r in caplog.records]
    assert any("database unavailable" in m for m in messages)
    assert any("database available again" in m for m in messages)


def test_backoff_is_capped(monkeypatch):
    queued = echo.enqueue("after a long outage")
    outage = Outage(monkeypatch, waits_down=8)
    run_worker(outage, max_tasks=1, max_backoff=3)
    assert outage.waits == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0, 3.0]
    assert status(queued) == "SUCCESSFUL"


def test_a_task_the_database_failed_runs_again(monkeypatch):
    queued = fails_on_the_database_once.enqueue("cut short")
    run_worker(max_tasks=2)
    result = DBTaskResult.objects.get(pk=queued.id)
    assert result.status == "SUCCESSFUL" and result.return_value == "cut short"
    assert len(result.worker_ids) == 2


def test_a_task_cut_short_by_an_outage_runs_again_after_it(monkeypatch):
    """The database goes away mid-task: the task is left RUNNING (its failure cannot be
    recorded), and goes back to the queue once the database is back."""
    outage = Outage(monkeypatch, waits_down=2)
    outage.down = False
    monkeypatch.setattr(tasks, "outage", outage)
    queued = tasks.loses_the_database_once.enqueue("mid-task")
    run_worker(outage, max_tasks=1)
    result = DBTaskResult.objects.get(pk=queued.id)
    assert result.status == "SUCCESSFUL" and result.return_value == "mid-task"
    assert len(result.worker_ids) == 2
    assert outage.waits == [0.5, 1.0]


def test_a_task_that_fails_on_its_own_is_not_run_again():
    queued = echo.enqueue(["not", "a", "string"])  # runs; returns a list: fine
    broken = echo.enqueue("x")
    DBTaskResult.objects.filter(pk=broken.id).update(task_path="tests.ops.tasks.missing")
    run_worker(batch=True)
    assert status(queued) == "SUCCESSFUL"
    assert status(broken) == "FAILED"
    assert len(DBTaskResult.objects.get(pk=broken.id).worker_ids) == 1


def test_the_worker_serves_every_queue_of_the_backend_by_default():
    queued = [echo.using(queue_name=q).enqueue(q) for q in ("webhooks", "default")]
    run_worker(batch=True)
    assert [status(r) for r in queued] == ["SUCCESSFUL", "SUCCESSFUL"]
