"""Fault test: a real task worker (``manage.py db_worker``, both queues) is killed with SIGKILL
while it waits for a slow receiver. A new worker delivers the event once the dead worker's lease
runs out: at least once, with one delivery id, so the receiver can drop the duplicate.

On loopback, bounded in time (about 20 s); the workers are killed whatever happens. PostgreSQL
runs the workers on the test database; SQLite on a copy of it in a file (the test database
lives in memory)."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import standardwebhooks
from django.db import connection

from reviews.services import review_submit
from webhooks.models import Delivery
from webhooks.services import webhook_create

ROOT = Path(__file__).resolve().parents[2]
CONNECT, READ = 1, 4  # an attempt takes at most 2 × 1 + 4 = 6 s: the lease is 12 s
WORKER_TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "webhooks"],
    }
}
ROWS_SQL = (
    "SELECT guid, status, attempted_at IS NOT NULL, lease_expires_at IS NOT NULL "
    "FROM webhooks_delivery ORDER BY id"
)


class WorkerDatabase:
    """The database the worker processes use, and the test's view of their writes."""

    def __init__(self, tmp_path: Path):
        db = connection.settings_dict
        if connection.vendor == "postgresql":
            auth = quote(db["USER"] or "", safe="")
            if db.get("PASSWORD"):
                auth += ":" + quote(db["PASSWORD"], safe="")
            host = db["HOST"] or "localhost"
            self.url = f"postgres://{auth}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
            self.file = None
        else:
            self.file = tmp_path / "worker.sqlite3"
            target = sqlite3.connect(self.file)
            connection.ensure_connection()
            connection.connection.backup(target)
            target.close()
            self.url = f"sqlite:///{self.file}"

    def deliveries(self) -> list[tuple]:
        if self.file is None:
            with connection.cursor() as cursor:
                cursor.execute(ROWS_SQL)
                rows = cursor.fetchall()
        else:
            with sqlite3.connect(self.file, timeout=20) as db:
                rows = db.execute(ROWS_SQL).fetchall()
        return [
            (str(guid).replace("-", ""), status, bool(a), bool(b)) for guid, status, a, b in rows
        ]


def start_worker(database: WorkerDatabase, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.webhooks.worker_settings",
        "DATABASE_URL": database.url,
        "SPECGATE_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "SPECGATE_WEBHOOK_CONNECT_TIMEOUT": str(CONNECT),
        "SPECGATE_WEBHOOK_READ_TIMEOUT": str(READ),
    }
    return subprocess.Popen(  # noqa: S603 - our own manage.py
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--queue-name",
            "default,webhooks",
            "--interval",
            "0.2",
            "--no-startup-delay",
            "--no-reload",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def wait_for(condition, seconds: float, what: str, workers=()):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        for worker in workers:
            assert worker.poll() is None, f"the worker exited ({worker.returncode})"
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_is_replaced_and_the_event_delivered_once(
    world, receiver, settings, tmp_path
):
    settings.TASKS = WORKER_TASKS  # enqueue into the database, as production does
    rx = receiver()
    rx.hang_first = True  # the first attempt waits for an answer that never comes
    hook = webhook_create(
        actor=world.lead, project=world.project, url=rx.url, events=["review.submitted"]
    )
    review_submit(actor=world.author, review=world.review)
    database = WorkerDatabase(tmp_path)
    log = tmp_path / "workers.log"
    workers = []
    try:
        first = start_worker(database, log)
        workers.append(first)
        wait_for(lambda: len(rx.requests) == 1, 60, "the first worker to post", [first])
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        rx.release()
        ((guid, status, claimed, leased),) = database.deliveries()
        assert (status, claimed, leased) == ("pending", True, True)  # stuck without a lease

        second = start_worker(database, log)
        workers.append(second)
        wait_for(
            lambda: database.deliveries()[0][1] == "succeeded",
            60,
            "the second worker to deliver",
            [second],
        )
        second.send_signal(signal.SIGTERM)
        second.wait(15)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(10)
        rx.release()

    rows = database.deliveries()
    assert [(g, s) for g, s, _c, _l in rows] == [(guid, "succeeded")], log.read_text()[-3000:]
    # the receiver saw the event twice, with one delivery id and one body: it keeps one
    assert len(rx.requests) == 2, log.read_text()[-3000:]
    (killed_headers, killed_body), (headers, body) = rx.requests
    assert headers["webhook-id"] == killed_headers["webhook-id"]
    assert headers["webhook-id"].replace("-", "") == guid
    assert body == killed_body
    secret = type(hook).objects.get(pk=hook.pk).secret
    assert standardwebhooks.Webhook(secret).verify(body, headers)["type"] == "review.submitted"
    assert json.loads(body)["review"]["state"] == "in_review"
    if database.file is None:
        assert Delivery.objects.get().status == "succeeded"
