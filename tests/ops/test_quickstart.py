"""``manage.py quickstart`` serves with the background worker: the demo's notification e-mails
are sent and print to the console without a second command, and the worker stops with the
server — on Ctrl+C, on SIGTERM, and when the server dies at start (its port is taken)."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.ops.processes import ROOT, alive, free_port, http_ok, process_group, wait_until

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")

BOUND = 60  # seconds a whole test may take


def _env(db) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("EMAIL_", "DJANGO_", "DATABASE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=f"sqlite:///{db}",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="module")
def prepared_db(tmp_path_factory):
    """A database with the demo in it (built once; its notification e-mails are queued)."""
    db = tmp_path_factory.mktemp("quickstart") / "demo.sqlite3"
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "quickstart", "--no-serve"],
        cwd=ROOT,
        env=_env(db),
        check=True,
        capture_output=True,
        timeout=120,
    )
    return db


@pytest.fixture
def db(prepared_db, tmp_path):
    copy = tmp_path / "demo.sqlite3"
    shutil.copy(prepared_db, copy)
    return copy


def _worker_pid(log) -> int | None:
    match = re.search(r"Background worker started \(pid (\d+)", log.read_text(errors="replace"))
    return int(match.group(1)) if match else None


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_quickstart_runs_the_worker_and_stops_it_with_the_server(db, tmp_path, stop):
    deadline = time.monotonic() + BOUND
    port, log = free_port(), tmp_path / "quickstart.log"
    args = [sys.executable, "manage.py", "quickstart", f"127.0.0.1:{port}"]
    with process_group(args, env=_env(db), log=log) as proc:
        wait_until(
            lambda: http_ok(f"http://127.0.0.1:{port}/readyz"),
            deadline=deadline,
            proc=proc,
            log=log,
            what="/readyz",
        )
        worker = wait_until(
            lambda: _worker_pid(log), deadline=deadline, proc=proc, log=log, what="the worker"
        )
        # The demo queued assignment e-mails; the worker sends them to the console.
        wait_until(
            lambda: "Subject: [Specgate] You were asked to review" in log.read_text(),
            deadline=deadline,
            proc=proc,
            log=log,
            what="a notification e-mail on the console",
        )
        text = log.read_text()
        assert "notification e-mails print here" in text and "queues default, webhooks" in text
        assert alive(worker)
        if stop == "ctrl-c":  # the terminal sends SIGINT to the whole foreground group
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=max(1, deadline - time.monotonic()))
        wait_until(lambda: not alive(worker), deadline=deadline, log=log, what="worker to stop")


def test_worker_does_not_outlive_a_server_that_cannot_start(db, tmp_path):
    """runserver leaves with os._exit(1) when its port is taken (no clean-up runs): the worker
    still goes (the parent-death signal)."""
    deadline = time.monotonic() + BOUND
    log = tmp_path / "quickstart.log"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = [sys.executable, "manage.py", "quickstart", f"127.0.0.1:{port}"]
        with process_group(args, env=_env(db), log=log) as proc:
            proc.wait(timeout=BOUND)
            assert proc.returncode != 0
            worker = _worker_pid(log)
            assert worker is not None, log.read_text()
            wait_until(lambda: not alive(worker), deadline=deadline, log=log, what="worker to go")
