"""deploy/: the Procfile runs the app on one host with honcho (web and worker, production
settings), the systemd units run the same commands and restart them, and the proxy sample sets
the headers the app trusts."""

import configparser
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ops.processes import ROOT, free_port, http_ok, process_group, tail, wait_until

DEPLOY = ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent
BOUND = 60  # seconds the whole honcho test may take
STRONG_KEY = "deploy-test-" + "k3y-" * 15

SETTINGS = """
from config.settings.production import *  # noqa: F403

# Production, with e-mail written to files the test can see instead of sent by SMTP.
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": %(mail)r},
    }
}
"""

ENQUEUE = (
    "from reviews.notifications import send_notification; "
    "send_notification.enqueue(['ops@example.com'], 'Deploy check', 'Sent by the worker.')"
)


def procfile() -> dict[str, str]:
    lines = (DEPLOY / "Procfile").read_text().splitlines()
    entries = [line.split(":", 1) for line in lines if line and not line.startswith("#")]
    return {name.strip(): command.strip() for name, command in entries}


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(DEPLOY / name)
    return parser


@pytest.fixture
def production_env(tmp_path):
    """A production environment on loopback: its own SQLite database (migrated), e-mail to
    files in ``tmp_path/mail``."""
    (tmp_path / "deploy_test_settings.py").write_text(SETTINGS % {"mail": str(tmp_path / "mail")})
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("EMAIL_", "DJANGO_", "DATABASE_", "CACHE_", "GUNICORN_"))
    }
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=str(tmp_path),
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="deploy_test_settings",
        DJANGO_SECRET_KEY=STRONG_KEY,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        GUNICORN_BIND=f"127.0.0.1:{free_port()}",
        GUNICORN_WORKERS="1",
    )
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
    )
    return env


def test_procfile_runs_web_and_worker_and_an_email_is_sent(production_env, tmp_path):
    deadline = time.monotonic() + BOUND
    log = tmp_path / "honcho.log"
    readyz = f"http://{production_env['GUNICORN_BIND']}/readyz"
    # As the README runs it: the app's settings come from the environment file (-e).
    app_keys = [
        key for key in production_env if key.startswith(("DJANGO_", "DATABASE_", "GUNICORN_"))
    ]
    env_file = tmp_path / "specgate.env"
    env_file.write_text("".join(f"{key}={production_env[key]}\n" for key in app_keys))
    honcho_env = {key: value for key, value in production_env.items() if key not in app_keys}
    args = [sys.executable, "-m", "honcho", "start", "-e", str(env_file), "-f", "deploy/Procfile"]
    with process_group([*args, "--no-colour"], env=honcho_env, log=log) as honcho:
        wait_until(lambda: http_ok(readyz), deadline=deadline, proc=honcho, log=log, what="/readyz")
        subprocess.run(  # noqa: S603 - queue an e-mail as the app does, in its own process
            [sys.executable, "manage.py", "shell", "-c", ENQUEUE],
            cwd=ROOT,
            env=production_env,
            check=True,
            timeout=max(1, deadline - time.monotonic()),
            capture_output=True,
        )
        mail = tmp_path / "mail"

        def sent() -> str:
            files = sorted(mail.glob("*.log")) if mail.is_dir() else []
            return "".join(f.read_text() for f in files)

        message = wait_until(
            lambda: sent() if "Deploy check" in sent() else "",
            deadline=deadline,
            proc=honcho,
            log=log,
            what="the worker to send the e-mail",
        )
        assert "To: ops@example.com" in message and "Sent by the worker." in message
        output = log.read_text()
        assert "web.1" in output and "worker.1" in output
        assert "queues=default,webhooks" in output
        honcho.send_signal(signal.SIGTERM)  # honcho stops both processes
        honcho.wait(timeout=max(1, deadline - time.monotonic()))
        assert not http_ok(readyz), tail(log)


def test_systemd_units_run_the_procfile_commands_and_restart_them():
    commands = procfile()
    assert set(commands) == {"web", "worker"}
    for process, name in (("web", "specgate-web.service"), ("worker", "specgate-worker.service")):
        service = unit(name)["Service"]
        assert service["Restart"] == "always", name
        assert service["EnvironmentFile"] == "/etc/specgate/specgate.env", name
        assert service["WorkingDirectory"] == "/srv/specgate", name
        exec_start = shlex.split(service["ExecStart"])
        assert exec_start[0].startswith("/srv/specgate/.venv/bin/"), name
        procfile_args = shlex.split(commands[process])
        if "--settings" in procfile_args:  # the Procfile defaults the settings itself
            at = procfile_args.index("--settings")
            del procfile_args[at : at + 2]
        assert [Path(exec_start[0]).name, *exec_start[1:]] == procfile_args, name
    assert "default,webhooks" in commands["worker"]


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_units_verify(tmp_path):
    """``systemd-analyze verify`` on the units, pointed at this checkout (their binaries must
    exist) and an empty environment file."""
    env_file = tmp_path / "specgate.env"
    env_file.write_text("")
    paths = []
    for name in ("specgate-web.service", "specgate-worker.service"):
        text = (DEPLOY / name).read_text()
        text = text.replace("/srv/specgate", str(ROOT)).replace(
            "/etc/specgate/specgate.env", str(env_file)
        )
        text = text.replace("User=specgate", "User=root").replace("Group=specgate", "Group=root")
        (tmp_path / name).write_text(text)
        paths.append(str(tmp_path / name))
    done = subprocess.run(  # noqa: S603
        ["systemd-analyze", "verify", *paths],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_proxy_sample_terminates_tls_and_forwards_the_client():
    conf = (DEPLOY / "nginx.conf").read_text()
    assert "listen 443 ssl" in conf and "ssl_certificate " in conf
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    assert "SPECGATE_TRUSTED_PROXY_COUNT=1" in conf
    upstream = conf.split("upstream specgate {", 1)[1].split("}", 1)[0]
    env_example = (DEPLOY / "specgate.env.example").read_text()
    bind = next(
        line.split("=", 1)[1] for line in env_example.splitlines() if line.startswith("GUNICORN_")
    )
    assert f"server {bind}" in upstream  # the proxy points where gunicorn listens
    assert "SPECGATE_TRUSTED_PROXY_COUNT=1" in env_example
