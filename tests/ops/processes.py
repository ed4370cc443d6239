"""Starting the app's real processes from tests: free ports, bounded waits, and a process group
that is killed whatever happens."""

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc), whatever session or group it started."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL ``proc``, its group and every descendant's group (honcho starts each of its
    processes in a session of its own, so killing honcho's group alone would orphan them)."""
    ours = os.getpgid(0)
    for pid in {proc.pid, *descendants(proc.pid)}:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            group = os.getpgid(pid)
            if group != ours:
                os.killpg(group, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)


def _default_signals() -> None:  # pragma: no cover - runs in the child before exec
    """Ctrl+C and SIGTERM as a terminal gives them: a suite started in the background (``cmd &``
    in a script, as CI may) runs with SIGINT ignored, and an ignored signal stays ignored in
    every child, so the quick start would never see the Ctrl+C its test sends."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_DFL)


@contextlib.contextmanager
def process_group(args: list[str], *, env: dict, log: Path, cwd: Path = ROOT) -> Iterator:
    """Start ``args`` in a new process group with its output in ``log``; on leaving, it and
    every process it started are killed, whether the test passed, failed or timed out."""
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own commands
            args,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_default_signals,  # noqa: PLW1509 - only resets signal dispositions
        )
        try:
            yield proc
        finally:
            _kill_tree(proc)
            proc.wait(timeout=10)


def wait_until(
    check, *, deadline: float, log: Path, what: str, proc: subprocess.Popen | None = None
):
    """Poll ``check()`` until it returns something truthy; fail with the log when ``proc`` (if
    given) ends first or the deadline passes."""
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"exited ({proc.returncode}) before {what}:\n{tail(log)}")
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}:\n{tail(log)}")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def tail(log: Path, lines: int = 60) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status
