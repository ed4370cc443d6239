"""Fault tests: the database goes away under a live app and comes back.

A gunicorn server and a ``run_worker`` process run on loopback against the test database,
while two clients save answers over the API. The database then disappears for a few
seconds — cut off by a TCP proxy between those processes and PostgreSQL (only they lose it),
or PostgreSQL itself stopped and started (opt-in: it interrupts every client of the server).
Requests meanwhile answer 503 with Retry-After; afterwards they succeed again, every answer
acknowledged with a 200 is in the database, the audit chain verifies, and the worker — never
restarted — runs tasks queued after the outage on both queues.

PostgreSQL only; each run takes about 15 s.
"""

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from accounts.services import token_create
from audit.models import Event
from reviews.models import Response
from reviews.services import review_submit
from tests.ops import fault_settings
from tests.ops.proxy import LoopbackProxy
from tests.ops.tasks import echo
from tests.reviews.factories import make_world

DATABASE = settings.DATABASES["default"]
ON_POSTGRES = "postgresql" in DATABASE["ENGINE"]
ROOT = Path(__file__).resolve().parents[2]
OUTAGE_SECONDS = 3.0
STOP_POSTGRES = os.environ.get("SPECGATE_FAULTS_STOP_POSTGRES") == "1"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not ON_POSTGRES, reason="fault tests run against PostgreSQL"),
]


# --- the outages -----------------------------------------------------------------------------


def postgres_cluster() -> list[str]:
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    return [versions[-1], "main"] if versions else []


def pg_ctl(action: str, check: bool = True) -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", *postgres_cluster(), action]
        + (["-m", "fast"] if action == "stop" else []),
        check=check,
        timeout=30,
        capture_output=True,
    )


def wait_for_postgres(timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((DATABASE["HOST"], int(DATABASE["PORT"])), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("PostgreSQL did not come back")


def cut_the_proxy(proxy: LoopbackProxy) -> None:
    proxy.cut()
    try:
        time.sleep(OUTAGE_SECONDS)
    finally:
        proxy.open()


def stop_postgres(proxy: LoopbackProxy) -> None:
    """Stopped for about OUTAGE_SECONDS, and started again whatever happens."""
    with connection.cursor() as cursor:  # so that stopping writes almost nothing (< 1 s)
        cursor.execute("CHECKPOINT")
    stopped = time.monotonic()
    try:
        pg_ctl("stop")
        time.sleep(OUTAGE_SECONDS - 1)
    finally:
        pg_ctl("start", check=False)  # "already running" is fine too
        wait_for_postgres()
        connection.close()  # this process's connection died with the server
    assert time.monotonic() - stopped < 8, "PostgreSQL was down for too long"


OUTAGES = [
    pytest.param(cut_the_proxy, id="proxy-cut"),
    pytest.param(
        stop_postgres,
        id="postgres-stopped",
        marks=pytest.mark.skipif(
            not (STOP_POSTGRES and shutil.which("pg_ctlcluster") and postgres_cluster()),
            reason="stops the local PostgreSQL server for every client of it: "
            "set SPECGATE_FAULTS_STOP_POSTGRES=1 (and run it where that is fine)",
        ),
    ),
]


# --- the processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def started(args: list[str], env: dict, log: Path):
    with log.open("wb") as out:
        process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def call(port: int, method: str, path: str, body=None, token: str = "", timeout: float = 10):
    """(status, headers, parsed body or text); status 0 when the server did not answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        answer = conn.getresponse()
        raw = answer.read().decode("utf-8", "replace")
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw
        return answer.status, dict(answer.getheaders()), parsed
    except OSError as exc:
        return 0, {}, repr(exc)
    finally:
        conn.close()


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


# --- the clients -------------------------------------------------------------------------------


@dataclass
class Writer:
    name: str
    port: int
    token: str
    review_id: int
    item_id: int
    results: list = field(default_factory=list)  # (status, headers, body, note)

    def run(self, stop: threading.Event) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            note = f"{self.name} save {n}"
            status, headers, body = call(
                self.port,
                "PATCH",
                f"/api/v1/reviews/{self.review_id}/responses/{self.item_id}/",
                {"verdict": "pass", "note": note},
                self.token,
            )
            self.results.append((status, headers, body, note))
            time.sleep(0.02)


def enqueue_and_wait(queues, marker: str, timeout: float) -> None:
    with override_settings(TASKS=fault_settings.TASKS):
        results = [echo.using(queue_name=q).enqueue(f"{marker} on {q}") for q in queues]
    ids = [r.id for r in results]

    def done():
        statuses = set(DBTaskResult.objects.filter(pk__in=ids).values_list("status", flat=True))
        return statuses == {"SUCCESSFUL"}

    wait_until(done, timeout, f"the worker to run {marker!r} tasks on {queues}")


# --- the test ----------------------------------------------------------------------------------


@pytest.mark.parametrize("outage", OUTAGES)
def test_database_outage_under_answer_saves(outage, tmp_path):
    began = time.monotonic()
    world = make_world()
    review_submit(actor=world.author, review=world.review)
    items = list(world.review.responses.order_by("item_id").values_list("item_id", flat=True))
    tokens = {
        "reviewer": token_create(actor=world.reviewer, name="fault").raw,
        "lead": token_create(actor=world.lead, name="fault").raw,
    }
    test_database = connection.settings_dict["NAME"]
    proxy = LoopbackProxy((DATABASE["HOST"], int(DATABASE["PORT"])))
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.ops.fault_settings",
        "DATABASE_URL": f"postgres://{DATABASE['USER']}@127.0.0.1:{proxy.port}/{test_database}",
        "PYTHONUNBUFFERED": "1",
    }
    server_args = [
        sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
        "--workers", "1", "--threads", "4", "--timeout", "30",
    ]  # fmt: skip
    worker_args = [
        sys.executable, "manage.py", "run_worker", "--no-startup-delay", "--no-reload",
        "--interval", "0.2", "--min-backoff", "0.2", "--max-backoff", "1",
    ]  # fmt: skip
    writers = [
        Writer("reviewer", port, tokens["reviewer"], world.review.pk, items[0]),
        Writer("lead", port, tokens["lead"], world.review.pk, items[1]),
    ]
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in writers]
    try:
        with (
            started(server_args, env, tmp_path / "server.log") as server,
            started(worker_args, env, tmp_path / "worker.log") as worker,
        ):
            wait_until(lambda: call(port, "GET", "/readyz")[0] == 200, 30, "the server")
            enqueue_and_wait(["default"], "before", timeout=20)

            for thread in threads:
                thread.start()
            time.sleep(1.5)
            outage(proxy)
            wait_until(lambda: call(port, "GET", "/readyz")[0] == 200, 20, "readiness again")
            time.sleep(1.5)
            stop.set()
            for thread in threads:
                thread.join(timeout=20)

            enqueue_and_wait(["default", "webhooks"], "after", timeout=20)
            assert worker.poll() is None, "the worker exited"
            assert server.poll() is None, "the server exited"
    finally:
        stop.set()
        proxy.close()
    worker_log = (tmp_path / "worker.log").read_text()
    server_log = (tmp_path / "server.log").read_text()

    # During the outage: 503 with Retry-After and the envelope; never a 500.
    results = [r for w in writers for r in w.results]
    statuses = [status for status, _, _, _ in results]
    assert set(statuses) <= {200, 503}, (statuses, server_log[-3000:])
    unavailable = [(h, b) for s, h, b, _ in results if s == 503]
    assert unavailable, "no request met the outage"
    for headers, body in unavailable:
        assert int(headers["Retry-After"]) >= 1
        assert body["error"]["code"] == "service_unavailable"
        assert body["error"]["request_id"] == headers["X-Request-ID"]
    # …then recovery: each client's last saves succeed.
    for writer in writers:
        assert [s for s, _, _, _ in writer.results[-3:]] == [200, 200, 200], writer.name

    # Every acknowledged answer is in the database and in the audit trail.
    recorded = {
        (e.after["item"], e.after["version"], e.after["note"])
        for e in Event.objects.filter(review_id=world.review.pk, verb="response.answered")
    }
    for writer in writers:
        acknowledged = [(b, note) for s, _, b, note in writer.results if s == 200]
        for body, note in acknowledged:
            assert body["note"] == note
            assert (writer.item_id, body["version"], note) in recorded, (writer.name, note)
        final = Response.objects.get(review=world.review, item_id=writer.item_id)
        assert final.note == acknowledged[-1][1]
    call_command("verify_audit")

    # The worker waited the outage out and carried on by itself.
    assert "database unavailable" in worker_log, worker_log[-3000:]
    assert "database available again" in worker_log, worker_log[-3000:]
    assert time.monotonic() - began < 60
    print(  # the figures, with -s
        f"\n{outage.__name__}: {statuses.count(200)} saves acknowledged, "
        f"{statuses.count(503)} answered 503, in {time.monotonic() - began:.1f} s"
    )
