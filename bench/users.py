"""Interactive users for bench/run.py: each waits a think time between requests, as people do.

wrk cannot model them here. gunicorn's sync workers close the connection after every answer,
wrk reconnects at once and only then waits its ``delay()``, so each idle user would hold a
worker on an open connection for the whole think time. These users connect when they send (as
a browser whose connection was closed does), one fresh connection per request, and time each
request from the connect to the last byte of the answer.

The driver is asyncio on one thread: at the rates interactive users make (a few per second
each) it takes a few percent of a core. Each user starts after a random part of one think
time, so that the run does not open with every user arriving at the same instant.
"""

import asyncio
import json
import math
import random
import time
from urllib.parse import urlsplit


def _request(method: str, path: str, host: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items() if value]
    if body or method not in ("GET", "HEAD"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _status(answer: bytes) -> int:
    try:
        return int(answer.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


class Saves:
    """The answer-save requests: flip each owned item to the other verdict, round-robin."""

    def __init__(self, path: str, items: list[tuple[int, str]], users: int):
        self.path = path
        self.owned = [[list(x) for x in items[u::users]] for u in range(users)]
        if any(not owned for owned in self.owned):
            raise SystemExit(f"{len(items)} items cannot give each of {users} users one")
        self.cursor = [0] * users

    def next(self, user: int) -> tuple[str, bytes]:
        owned = self.owned[user]
        entry = owned[self.cursor[user] % len(owned)]
        self.cursor[user] += 1
        entry[1] = "fail" if entry[1] == "pass" else "pass"
        body = json.dumps({"verdict": entry[1], "note": "Bench flip."}).encode()
        return self.path.replace("{item}", str(entry[0])), body


def percentile(ordered: list[float], p: float) -> float:
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(len(ordered) * p / 100) - 1)]


async def _drive(
    base: str,
    method: str,
    path: str,
    headers: dict[str, str],
    users: int,
    seconds: float,
    max_requests: int,
    think_ms: tuple[int, int],
    saves: Saves | None,
    timeout: float,
) -> dict:
    url = urlsplit(base)
    host, port = url.hostname, url.port or 80
    fixed = {k: v for k, v in headers.items() if v}
    if saves is not None:
        fixed["Content-Type"] = "application/json"
    latencies: list[float] = []
    errors = {"non_2xx": 0, "connect": 0, "read": 0, "write": 0, "timeout": 0}
    samples: list[str] = []
    started = time.monotonic()
    deadline = started + seconds
    counted = 0

    async def one(user: int) -> None:
        nonlocal counted
        if saves is not None:
            target, body = saves.next(user)
        else:
            target, body = path, b""
        payload = _request(method, target, url.netloc, fixed, body)
        begin = time.perf_counter()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except (OSError, TimeoutError):
            errors["connect"] += 1
            return
        try:
            try:
                writer.write(payload)
                await writer.drain()
            except OSError:
                errors["write"] += 1
                return
            try:
                answer = await asyncio.wait_for(reader.read(), timeout)  # to the close
            except TimeoutError:
                errors["timeout"] += 1
                return
            except OSError:
                errors["read"] += 1
                return
            latencies.append(time.perf_counter() - begin)
            counted += 1
            status = _status(answer)
            if not 200 <= status <= 299:
                errors["non_2xx"] += 1
                if len(samples) < 3:
                    text = answer.split(b"\r\n\r\n", 1)[-1][:400].decode("utf-8", "replace")
                    samples.append(f"{status} {' '.join(text.split())[:160]}")
        finally:
            writer.close()

    async def user_loop(user: int) -> None:
        low, high = think_ms
        await asyncio.sleep(random.uniform(0, high) / 1000)  # noqa: S311 - not security
        while time.monotonic() < deadline and counted < max_requests:
            await one(user)
            await asyncio.sleep(random.uniform(low, high) / 1000)  # noqa: S311

    await asyncio.gather(*(user_loop(u) for u in range(users)))
    elapsed = time.monotonic() - started
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "duration_us": elapsed * 1e6,
        "p50_us": percentile(ordered, 50) * 1e6,
        "p95_us": percentile(ordered, 95) * 1e6,
        "p99_us": percentile(ordered, 99) * 1e6,
        "max_us": (ordered[-1] if ordered else 0) * 1e6,
        **errors,
        "status": 0,
        "threads": 1,
        "threads_count_bounded": int(counted >= max_requests),
        "samples": samples,
    }


def run_users(
    base: str,
    method: str,
    path: str,
    headers: dict[str, str],
    users: int,
    seconds: float,
    max_requests: int,
    think_ms: tuple[int, int],
    items: list[tuple[int, str]] | None = None,
    timeout: float = 30.0,
) -> dict:
    """``users`` interactive users on ``method path`` for ``seconds`` (or ``max_requests``
    answers); ``items`` [(item id, verdict now)] when the path saves answers ("{item}")."""
    saves = Saves(path, items, users) if items is not None else None
    started_cpu = time.process_time()
    result = asyncio.run(
        _drive(base, method, path, headers, users, seconds, max_requests, think_ms, saves, timeout)
    )
    result["cpu_s"] = time.process_time() - started_cpu
    return result
