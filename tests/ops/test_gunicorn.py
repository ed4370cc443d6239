"""Two gunicorn instances on one host (config/gunicorn.py, production settings, loopback),
started for a few seconds: both serve, neither takes the other's control socket, and the
access log names the client behind the trusted proxies."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.ops.test_settings import STRONG_KEY

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
STARTUP_SECONDS = 60  # two cores shared with other test runs: imports can be slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(port: int, home: Path, log: Path, **env) -> subprocess.Popen:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(
        {
            # Both instances run as one user with one runtime directory: gunicorn's default
            # control socket path would be the same for both.
            "HOME": str(home),
            "XDG_RUNTIME_DIR": str(home),
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": STRONG_KEY,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "1",
            **env,
        }
    )
    return subprocess.Popen(
        [str(GUNICORN), "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT,
        env=environment,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def get(port: int, headers=None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers=headers or {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.read()


def wait_until_serving(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, f"gunicorn on {port} exited:\n{log.read_text()}"
        try:
            get(port)
            return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"gunicorn on {port} did not serve within {STARTUP_SECONDS} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def two_instances(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"gunicorn-{port}.log" for port in ports]
    processes = [
        start(ports[0], tmp_path, logs[0]),
        start(ports[1], tmp_path, logs[1], SPECGATE_TRUSTED_PROXY_COUNT="1"),
    ]
    try:
        for port, process, log in zip(ports, processes, logs, strict=True):
            wait_until_serving(port, process, log)
        yield ports, processes, logs
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def access_lines(log: Path) -> list[dict]:
    return [
        json.loads(line)
        for line in log.read_text().splitlines()
        if line.startswith("{") and '"gunicorn.access"' in line
    ]


def test_two_instances_on_one_host_both_serve_and_share_no_control_socket(two_instances):
    ports, processes, logs = two_instances
    for port in ports:
        assert get(port) == (200, b'{"status": "ok"}')
    time.sleep(1)  # let both masters finish starting up (the control socket comes last)
    for process in processes:
        assert process.poll() is None
    claimed = [
        path
        for log in logs
        for path in re.findall(r"Control socket listening at (\S+)", log.read_text())
    ]
    assert len(claimed) == len(set(claimed)), f"one control socket for two instances: {claimed}"


def test_the_access_log_names_the_client_behind_the_trusted_proxies(two_instances):
    ports, _, logs = two_instances
    forged = {"X-Forwarded-For": '6.6.6.6", "evil": "1, 198.51.100.23'}
    for port in ports:
        get(port, forged)
    time.sleep(0.5)
    untrusting, trusting = (access_lines(log) for log in logs)
    # No trusted proxy: the forged header is ignored, the client is the connection's address.
    assert untrusting[-1]["client"] == "127.0.0.1"
    # One trusted proxy: the entry it appended, whatever the client wrote before it.
    assert trusting[-1]["client"] == "198.51.100.23"
    assert all("evil" not in line for line in untrusting + trusting)
