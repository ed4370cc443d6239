"""Migrate, create demo data, and serve with the background worker: the README's first command.

The task worker (``manage.py run_worker`` for every queue the app uses) runs as a child process
for as long as the server does, so notification e-mails (printed to this console by the local
settings) and webhook deliveries happen without a second command. It is stopped when the
server stops, however that happens (Ctrl+C, SIGTERM, an error).
"""

import ctypes
import ctypes.util
import signal
import subprocess  # nosec B404
import sys
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from reviews.demo import build_demo, demo_summary, refuse_in_production

# The queues the app's tasks use: e-mail on "default", webhook deliveries on "webhooks".
WORKER_QUEUES = ("default", "webhooks")
GRACE_SECONDS = 10
PR_SET_PDEATHSIG = 1


def worker_command(settings_module: str) -> list[str]:
    return [
        sys.executable,
        str(Path(settings.BASE_DIR) / "manage.py"),
        "run_worker",
        "--queue-name",
        ",".join(WORKER_QUEUES),
        "--no-reload",
        "--no-startup-delay",
        "--settings",
        settings_module,
    ]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the worker gets SIGTERM if quickstart dies without running its clean-up
    (runserver leaves with os._exit(1) when the port is taken; SIGKILL)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_worker(settings_module: str) -> subprocess.Popen:
    # A fixed argv: this interpreter, our manage.py, our settings module; no shell.
    return subprocess.Popen(  # noqa: S603  # nosec B603
        worker_command(settings_module),
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
    )


def stop_worker(worker: subprocess.Popen, *, interrupted: bool) -> None:
    """Stop the worker: after Ctrl+C it already has the SIGINT (same process group) and exits
    once its current task is done; otherwise it is asked with SIGTERM. Killed if it hangs."""
    if worker.poll() is not None:
        return
    if interrupted:
        try:
            worker.wait(timeout=GRACE_SECONDS)
            return
        except subprocess.TimeoutExpired:
            pass
    worker.terminate()
    try:
        worker.wait(timeout=GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


class Command(BaseCommand):
    help = (
        "Migrate the database, create a demo project with a user per role, and start the "
        "server together with the background task worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--no-serve", action="store_true", help="Prepare the demo data but do not serve."
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start the background task worker (e-mails and webhooks then wait "
            "until you run `manage.py run_worker`).",
        )

    def handle(self, *args, addrport, no_serve, no_worker, **options):
        try:
            refuse_in_production()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("Preparing the database (migrate) and the demo data…")
        call_command("migrate", interactive=False, verbosity=0)
        accounts = build_demo()
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Sign in with any of these:"))
        for account in accounts:
            self.stdout.write(
                f"  {account.role:<10} {account.email:<24} password: {account.password}"
            )
        self.stdout.write("Demo reviews (project “demo”):")
        for line in demo_summary():
            self.stdout.write(f"  {line}")
        if no_serve:
            return
        self.serve(addrport, with_worker=not no_worker)

    def serve(self, addrport: str, *, with_worker: bool) -> None:
        previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        worker = None
        interrupted = False
        try:
            if with_worker:
                worker = start_worker(settings.SETTINGS_MODULE)
                self.stdout.write(
                    f"Background worker started (pid {worker.pid}, queues "
                    f"{', '.join(WORKER_QUEUES)}): notification e-mails print here, in this "
                    "console; webhooks are delivered. It stops with the server."
                )
            else:
                self.stdout.write(
                    "No background worker (--no-worker): e-mails and webhooks wait in the queue."
                )
            self.stdout.write(
                f"Serving on http://{addrport}/ (settings: {settings.SETTINGS_MODULE}); "
                "Ctrl+C stops the server and the worker."
            )
            self.stdout.flush()
            call_command("runserver", addrport, use_reloader=False)
        except KeyboardInterrupt:
            interrupted = True
        except SystemExit as exc:
            # runserver turns Ctrl+C into sys.exit(0); our SIGTERM handler exits 128 + 15.
            interrupted = exc.code in (0, None)
            raise
        finally:
            signal.signal(signal.SIGTERM, previous)
            if worker is not None:
                stop_worker(worker, interrupted=interrupted)
