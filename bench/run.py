"""Specgate benchmark: build a realistic dataset, serve it as in production, load it, report.

    uv run --group bench python bench/run.py            # full: rebuilds the dataset, ~8.5 min
    uv run --group bench python bench/run.py --quick    # short runs, reuses the dataset, ~3.5 min
    uv run --group bench python bench/run.py --quick --only floor,gate --users 10

Steps: (1) drop and recreate the PostgreSQL database ``specgate_bench``, migrate, collectstatic,
build the dataset and count queries per endpoint with the test Client (``bench/dataset.py``);
(2) start gunicorn (``config/gunicorn.py``, production settings) on a free loopback port and
wait for /readyz; (3) drive each endpoint separately at 1, 10 and 40 interactive users and 10
closed-loop users;
(4) write ``bench/results/latest.json`` and ``bench/results/latest.md`` (``subset.json`` and
``subset.md`` when ``--only`` or ``--users`` picks a part); gunicorn is always stopped at the end.

Three kinds of run per endpoint: interactive users (``bench/users.py``: asyncio in this
process, each user waits a random think time after every answer; latency budgets), a closed
loop of 10 users in one wrk process (``bench/wrk.lua``; the throughput budget: wrk is C and
epoll, so it takes little of the two cores it shares with gunicorn and PostgreSQL), and the
cached reads again with the read cache off. Before the runs of an endpoint a closed-loop
warm-up makes every worker serve it; after each run ``drain`` waits for an idle server. Runs
are bounded in time and in count (MAX_REQUESTS answers). Closed-loop percentiles are wrk's
(microsecond histogram, with its coordinated-omission correction); interactive ones are exact.
Errors are socket errors, timeouts (> 30 s) and non-2xx answers.
"""

import argparse
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from importlib.metadata import version
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _env import ADMIN_URL, BENCH, DATABASE_URL, DB_NAME, RESULTS, ROOT, STATE, bench_env  # noqa: E402
from report import write_reports  # noqa: E402
from users import run_users  # noqa: E402

ENDPOINTS = [
    "floor",
    "review_page",
    "answer_save",
    "gate",
    "dashboard",
    "api_reviews",
    "api_responses",
]
USERS = [1, 10, 40]
THINK_MS = (250, 750)  # interactive users wait a random 250-750 ms after each answer
CAPACITY_USERS = 10  # the closed-loop run of each endpoint: the rate the stack can serve
# Served from the read cache (audit/cache.py) while nothing changes; also measured without it.
CACHED = ["gate", "dashboard", "api_reviews", "api_responses"]
PHASES = ["interactive", "capacity", "uncached"]
REFERENCE = "healthz"  # unauthenticated, no database: the stack alone, for reference
WORKERS = 2  # one per core: the load generator shares the same two cores
MAX_REQUESTS = 50_000  # per run: bounded in count as well as in time
WRK_SCRIPT = BENCH / "wrk.lua"
WRK_TIMEOUT = 30  # seconds; slower answers are errors (as gunicorn's own worker timeout)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd: list[str], env: dict) -> None:
    log("$ " + " ".join(cmd[1:] if cmd[0] == sys.executable else cmd))
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)  # noqa: S603 - our own commands


# --- database and dataset ----------------------------------------------------------------------


def recreate_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def dataset_exists() -> bool:
    if not STATE.exists() or not (RESULTS / ".queries.json").exists():
        return False
    if "lead_has_totp" not in json.loads(STATE.read_text()):  # made by an older bench/dataset.py
        return False
    try:
        with psycopg.connect(ADMIN_URL.rsplit("/", 1)[0] + f"/{DB_NAME}") as conn:
            return conn.execute("SELECT count(*) FROM reviews_review").fetchone()[0] >= 5000
    except psycopg.Error:
        return False


def build(env: dict, growth_calls: int) -> None:
    recreate_database()
    run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env)
    run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], env)
    dataset_env = {
        **env,
        "BENCH_GROWTH_CALLS": str(growth_calls),
        "DJANGO_ALLOWED_HOSTS": env["DJANGO_ALLOWED_HOSTS"] + ",testserver",  # the test Client
    }
    run([sys.executable, "bench/dataset.py"], dataset_env)


# --- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict, workers: int, read_cache: bool = True) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server_env = {
        **env,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
    }
    if not read_cache:
        server_env["SPECGATE_READ_CACHE_SECONDS"] = "0"
    logfile = open(RESULTS / "gunicorn.log.tmp", "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT,
        env=server_env,
        stdout=logfile,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}; see {logfile.name}")
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    cache = "" if read_cache else ", read cache off"
                    log(f"gunicorn ready on {base} ({workers} workers{cache}, pid {proc.pid})")
                    return proc, base
        except OSError:
            pass
        time.sleep(0.5)
    stop_server(proc)
    raise SystemExit("gunicorn did not answer /readyz within 60 s")


def stop_server(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)  # the gunicorn master stops its workers
    try:
        proc.wait(timeout=35)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log("gunicorn stopped")


# --- load --------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """The wrk binary; installed with apt-get when it is missing and we may."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        log("wrk is missing: apt-get install -y wrk")
        install = ["apt-get", "install", "-y", "--no-install-recommends", "wrk"]
        if subprocess.run(install, env=apt_env, check=False).returncode:  # noqa: S603
            subprocess.run(["apt-get", "update"], env=apt_env, check=False)  # noqa: S607
            subprocess.run(install, env=apt_env, check=False)  # noqa: S603
        found = shutil.which("wrk")
        if found:
            return found
    raise SystemExit(
        "bench/run.py drives the server with wrk (https://github.com/wg/wrk), which is not "
        "installed. Install it (Debian/Ubuntu: `sudo apt-get install wrk`; macOS: "
        "`brew install wrk`) and run again."
    )


def wrk_version(wrk: str) -> str:
    out = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False).stdout  # noqa: S603
    match = re.search(r"wrk (\S+) \[(\w+)\]", out)
    return f"{match[1]} ({match[2]})" if match else out.strip().splitlines()[0]


def target(endpoint: str, state: dict) -> tuple[str, str, dict[str, str]]:
    """Method, path and credentials (as environment for bench/wrk.lua) of one endpoint."""
    review = state["review_id"]
    api = {"BENCH_AUTHORIZATION": f"Bearer {state['token']}"}
    page = {"BENCH_COOKIE": f"sessionid={state['sessionid']}"}
    return {
        "healthz": ("GET", "/healthz", {}),
        "floor": ("GET", "/api/v1/me/", api),
        "review_page": ("GET", f"/reviews/{review}/", page),
        "answer_save": ("PATCH", f"/api/v1/reviews/{review}/responses/{{item}}/", api),
        "gate": ("GET", f"/api/v1/reviews/{review}/gate/", api),
        "dashboard": ("GET", "/", page),
        "api_reviews": ("GET", "/api/v1/reviews/?page_size=50", api),
        "api_responses": ("GET", f"/api/v1/reviews/{review}/responses/", api),
    }[endpoint]


def answer_pool(state: dict) -> str:
    """The answer-save pool with each item's verdict now, as "item:verdict,...": the script
    flips every item to the other verdict, so each save changes the answer (a save that
    changes nothing returns early in the service)."""
    items = state["answer_items"]
    # After drain() at most one request of the last run can still be running (on another
    # worker): give it time to commit, and wait for any row lock it holds (FOR SHARE).
    time.sleep(0.5)
    with psycopg.connect(DATABASE_URL) as conn:
        now = dict(
            conn.execute(
                "SELECT item_id, verdict FROM reviews_response"
                " WHERE review_id = %s AND item_id = ANY(%s) FOR SHARE",
                (state["review_id"], items),
            ).fetchall()
        )
    return ",".join(f"{item}:{now.get(item, 'pass')}" for item in items)


def wrk_run(
    wrk: str,
    endpoint: str,
    users: int,
    seconds: int,
    max_requests: int,
    base: str,
    state: dict,
) -> dict:
    """One wrk process: ``users`` connections in a closed loop for ``seconds`` or
    ``max_requests`` answers."""
    threads = 2 if users >= 2 and users % 2 == 0 else 1
    method, path, credentials = target(endpoint, state)
    env = {**os.environ, "BENCH_AUTHORIZATION": "", "BENCH_COOKIE": "", **credentials}
    if "{item}" in path:
        env["BENCH_ITEMS"] = answer_pool(state)
    quota = math.ceil(max_requests / threads)
    cmd = [
        wrk, "-t", str(threads), "-c", str(users), "-d", f"{seconds}s",
        "--timeout", f"{WRK_TIMEOUT}s", "-s", str(WRK_SCRIPT), base + "/",
        "--", method, path, str(threads), str(quota),
    ]  # fmt: skip
    proc = subprocess.Popen(  # noqa: S603 - our own command
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace"
    )
    stderr: list[str] = []

    def watch() -> None:  # the count bound: once every thread is done, end the run now
        done = 0
        for line in proc.stderr:
            if line.startswith("BENCH_THREAD_DONE"):
                done += 1
                if done == threads:
                    proc.send_signal(signal.SIGINT)
            else:
                stderr.append(line)

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    ticks = cpu_ticks()
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        proc.wait(timeout=seconds + WRK_TIMEOUT + 30)  # its output is small: no pipe stall
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    watcher.join(timeout=5)
    out = proc.stdout.read()
    line = next((x for x in out.splitlines() if x.startswith("BENCH_RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(
            f"wrk failed ({endpoint}, {users} users, exit {proc.returncode}):\n"
            + out
            + "".join(stderr)
        )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk's own CPU time
    result = json.loads(line.removeprefix("BENCH_RESULT "))
    result["threads"] = threads
    result["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["others_cpu"] = others_share(ticks, cpu_ticks(), result["duration_us"] / 1e6)
    return result


def interactive_run(
    endpoint: str,
    users: int,
    seconds: int,
    max_requests: int,
    base: str,
    state: dict,
    think: tuple[int, int],
) -> dict:
    method, path, credentials = target(endpoint, state)
    headers = {
        "Authorization": credentials.get("BENCH_AUTHORIZATION", ""),
        "Cookie": credentials.get("BENCH_COOKIE", ""),
    }
    items = None
    if "{item}" in path:
        items = [(int(i), v) for i, v in (x.split(":") for x in answer_pool(state).split(","))]
    ticks = cpu_ticks()
    result = run_users(base, method, path, headers, users, seconds, max_requests, think, items)
    result["others_cpu"] = others_share(ticks, cpu_ticks(), result["duration_us"] / 1e6)
    return result


SESSION = re.compile(r" (\S+) (?:[0-9a-fA-F.:]+\(\d+\)|\[local\])")


def cpu_ticks() -> dict[int, tuple[int, bool]]:
    """CPU ticks so far of every process, and whether it is ours: this process's descendants
    (gunicorn, wrk) and the PostgreSQL processes that are not a session of another database."""
    procs = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (
                (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            )
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # state, ppid, ..., utime (14th), stime (15th)
        procs[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]), cmdline)
    me = os.getpid()

    def ours(pid: int, cmdline: str) -> bool:
        if cmdline.startswith("postgres:"):  # a session "...: USER DB ADDR(PORT) ...", a helper
            session = SESSION.search(cmdline)
            return session is None or session[1] == DB_NAME
        seen = 0
        while pid > 1 and seen < 64:
            if pid == me:
                return True
            pid = procs[pid][0] if pid in procs else 0
            seen += 1
        return False

    return {pid: (ticks, ours(pid, cmd)) for pid, (_, ticks, cmd) in procs.items()}


def cpu_totals() -> tuple[int, int]:
    """(steal, all) ticks of the whole machine so far, from /proc/stat: on a virtual machine the
    hypervisor's "steal" is time the host gave our virtual CPUs to someone else."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def steal_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total > 0 else 0.0


def others_share(before: dict, after: dict, seconds: float) -> float:
    """Share of the machine's CPU that other processes took between two cpu_ticks()."""
    ticks = sum(t - before.get(pid, (0, False))[0] for pid, (t, ours) in after.items() if not ours)
    if not seconds:
        return 0.0
    return min(1.0, ticks / os.sysconf("SC_CLK_TCK") / (seconds * (os.cpu_count() or 1)))


def drain(base: str, limit: float = 60.0) -> None:
    """Wait until the server has worked off the requests the stopped users left queued: a run
    must not start behind the previous run's backlog."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=limit) as response:  # noqa: S310
                response.read()
        except OSError:
            pass
        if time.monotonic() - started < 0.05:
            return
    log("warning: the server did not drain within 60 s")


def errors_of(result: dict) -> int:
    # wrk's "status" errors (> 399) are part of non_2xx, counted by bench/wrk.lua.
    return sum(result[k] for k in ("connect", "read", "write", "timeout", "non_2xx"))


def warm(
    wrk: str, endpoint: str, base: str, state: dict, seconds: int, max_requests: int, workers: int
) -> None:
    """A closed-loop run with at least two connections per worker, so that every worker has
    served the endpoint (and filled what it caches); then an idle server."""
    result = wrk_run(wrk, endpoint, max(10, 2 * workers), seconds, max_requests, base, state)
    if errors_of(result):
        log(f"{endpoint} warm-up: {errors_of(result)} errors {result['samples']}")
    drain(base)


def measure(
    wrk: str,
    endpoint: str,
    users: int,
    base: str,
    state: dict,
    seconds: int,
    max_requests: int,
    think: tuple[int, int] | None,
) -> dict:
    totals = cpu_totals()
    if think:  # interactive users (bench/users.py)
        result = interactive_run(endpoint, users, seconds, max_requests, base, state, think)
    else:
        result = wrk_run(wrk, endpoint, users, seconds, max_requests, base, state)
    stolen = steal_share(totals, cpu_totals())
    elapsed = result["duration_us"] / 1e6
    others = result["others_cpu"]
    drain(base)
    row = {
        "endpoint": endpoint,
        "users": users,
        "p50_ms": round(result["p50_us"] / 1000, 2),
        "p95_ms": round(result["p95_us"] / 1000, 2),
        "p99_ms": round(result["p99_us"] / 1000, 2),
        "rps": round(result["requests"] / elapsed, 1) if elapsed else 0.0,
        "errors": errors_of(result),
        "others_cpu": others,  # not written to latest.json's runs; see machine
        "steal": stolen,
    }
    kinds = ", ".join(
        f"{k} {result[k]}" for k in ("non_2xx", "connect", "read", "write", "timeout") if result[k]
    )
    note = f" ({kinds}; first: {result['samples']})" if row["errors"] else ""
    bounded = " (count bound)" if result["threads_count_bounded"] == result["threads"] else ""
    how = "interactive" if think else "closed loop"
    log(
        f"{endpoint:14} {users:>2} users {how:11}: p50 {row['p50_ms']:7.1f} ms"
        f"  p95 {row['p95_ms']:7.1f} ms  p99 {row['p99_ms']:7.1f} ms  {row['rps']:7.1f} rps"
        f"  {result['requests']} requests in {elapsed:.2f} s{bounded}  {row['errors']} errors"
        f"{note}  (load generator {result['cpu_s'] / elapsed:.0%} of a core; other processes"
        f" {others:.0%} of the machine; stolen by the host {stolen:.0%})"
    )
    return row


# --- machine -----------------------------------------------------------------------------------


def machine(workers: int, wrk: str) -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with psycopg.connect(ADMIN_URL) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "django": version("django"),
        "postgres": postgres,
        "gunicorn": version("gunicorn"),
        "gunicorn_workers": workers,
        "wrk": wrk_version(wrk),
        "wrk_threads": "min(users, 2), 1 if users is odd",
        "os": platform.platform(),
    }


# --- main --------------------------------------------------------------------------------------


def names(text: str, allowed: list[str], what: str) -> list[str]:
    picked = [x.strip() for x in text.split(",") if x.strip()]
    unknown = [x for x in picked if x not in allowed]
    if unknown or not picked:
        raise SystemExit(f"unknown {what}: {', '.join(unknown) or text!r}; choose from {allowed}")
    return [x for x in allowed if x in picked]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs; reuse the dataset")
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild the dataset even in --quick"
    )
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn workers (2)")
    parser.add_argument("--seconds", type=int, help="measured seconds per run (full 10, quick 4)")
    parser.add_argument(
        "--max-requests",
        type=int,
        default=MAX_REQUESTS,
        help=f"count bound per run ({MAX_REQUESTS})",
    )
    parser.add_argument(
        "--only",
        metavar="ENDPOINT[,ENDPOINT]",
        help=f"measure only these ({', '.join([REFERENCE, *ENDPOINTS])}); writes subset.json/.md",
    )
    parser.add_argument(
        "--users",
        metavar="N[,N]",
        help="concurrent users instead of 1,10,40; writes subset.json/.md",
    )
    parser.add_argument(
        "--think",
        metavar="MIN,MAX",
        default=",".join(str(ms) for ms in THINK_MS),
        help="interactive users' wait after each answer, in ms (default %(default)s; 0: none,"
        " a closed loop)",
    )
    parser.add_argument(
        "--phases",
        metavar="PHASE[,PHASE]",
        default=",".join(PHASES),
        help=f"which runs ({', '.join(PHASES)}; default all)",
    )
    args = parser.parse_args()
    phases = names(args.phases, PHASES, "phase")
    try:
        think_range = [int(x) for x in args.think.split(",")]
    except ValueError:
        raise SystemExit(
            f"--think takes MIN,MAX in ms, e.g. 250,750 (got {args.think!r})"
        ) from None
    if len(think_range) == 1:
        think_range *= 2
    if len(think_range) != 2 or not 0 <= think_range[0] <= think_range[1]:
        raise SystemExit(f"--think takes MIN,MAX with 0 <= MIN <= MAX (got {args.think!r})")
    think = tuple(think_range) if think_range[1] else None
    endpoints = names(args.only, [REFERENCE, *ENDPOINTS], "endpoint") if args.only else None
    try:
        users_list = [int(x) for x in args.users.split(",")] if args.users else USERS
    except ValueError:
        raise SystemExit(f"--users takes numbers, e.g. 1,10,40 (got {args.users!r})") from None
    if any(u < 1 for u in users_list):
        raise SystemExit("--users must be at least 1")
    subset = bool(args.only or args.users or phases != PHASES)
    seconds = args.seconds or (4 if args.quick else 10)
    warmup = 1 if args.quick else 2
    started = time.monotonic()
    RESULTS.mkdir(exist_ok=True)
    wrk = ensure_wrk()
    info = machine(args.workers, wrk)

    reuse = args.quick and not args.rebuild and dataset_exists()
    if reuse:
        state = json.loads(STATE.read_text())
        env = bench_env()
        env["DJANGO_SECRET_KEY"] = state["secret_key"]  # the saved session was signed with it
        log("reusing the dataset of the previous build (--rebuild to build it again)")
        run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env)
        run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], env)
        measure_env = {
            **env,
            "BENCH_GROWTH_CALLS": "10",
            "DJANGO_ALLOWED_HOSTS": env["DJANGO_ALLOWED_HOSTS"] + ",testserver",
        }
        run([sys.executable, "bench/dataset.py", "--measure"], measure_env)
    else:
        env = bench_env()
        build(env, growth_calls=10 if args.quick else 20)
        state = json.loads(STATE.read_text())
        state["secret_key"] = env["DJANGO_SECRET_KEY"]
        STATE.write_text(json.dumps(state))
    measured = json.loads((RESULTS / ".queries.json").read_text())
    info["dataset"] = state["counts"] | {"review_items": state["review_items"]}
    info["dataset_build_seconds"] = state["build_seconds"]

    runs, capacity, uncached = [], [], []
    picked = [e for e in (endpoints or ENDPOINTS) if e != REFERENCE]
    queries = measured["queries"]
    server = None
    try:
        server, base = start_server(env, args.workers)
        bound = (seconds, args.max_requests)
        if endpoints is None or REFERENCE in endpoints:
            warm(wrk, REFERENCE, base, state, warmup, args.max_requests, args.workers)
            ref = measure(wrk, REFERENCE, 10, base, state, *bound, think=None)
            info["reference_healthz_10_users"] = {k: ref[k] for k in ("p50_ms", "p95_ms", "rps")}
        for endpoint in picked:
            warm(wrk, endpoint, base, state, warmup, args.max_requests, args.workers)
            # While nothing changes, the cached reads are answered from the cache.
            count = queries[endpoint]["cached" if endpoint in CACHED else "warm"]
            if "interactive" in phases:
                for users in users_list:
                    row = measure(wrk, endpoint, users, base, state, *bound, think=think)
                    runs.append(row | {"queries": count})
            if "capacity" in phases:
                row = measure(wrk, endpoint, CAPACITY_USERS, base, state, *bound, think=None)
                capacity.append(row | {"queries": count})
        stop_server(server)
        server = None
        again = [e for e in picked if e in CACHED] if "uncached" in phases else []
        if again:  # every read built afresh: what a reader meets right after a change
            server, base = start_server(env, args.workers, read_cache=False)
            for endpoint in again:
                warm(wrk, endpoint, base, state, warmup, args.max_requests, args.workers)
                row = measure(wrk, endpoint, CAPACITY_USERS, base, state, *bound, think=think)
                uncached.append(row | {"queries": queries[endpoint]["warm"]})
    finally:
        stop_server(server)

    measured_rows = runs + capacity + uncached
    if measured_rows:  # the mean share of the CPU other processes took while runs were measured
        info["other_processes_cpu_share"] = round(
            sum(r["others_cpu"] for r in measured_rows) / len(measured_rows), 3
        )
        info["steal_share"] = round(sum(r["steal"] for r in measured_rows) / len(measured_rows), 3)
        info["steal_share_max"] = round(max(r["steal"] for r in measured_rows), 3)
    info["mode"] = ("quick" if args.quick else "full") + (" (subset)" if subset else "")
    info["seconds_per_run"] = seconds
    info["think_ms"] = list(think) if think else None
    info["capacity_users"] = CAPACITY_USERS
    info["warmup_seconds_per_endpoint"] = warmup
    info["max_requests_per_run"] = args.max_requests
    info["queries_cold"] = {k: v["cold"] for k, v in measured["queries"].items()}
    info["total_seconds"] = round(time.monotonic() - started)
    stem = "subset" if subset else "latest"
    write_reports(info, runs, measured["growth"], capacity, uncached, stem=stem)
    log(f"wrote {RESULTS / (stem + '.json')} and {stem}.md in {info['total_seconds']} s")


if __name__ == "__main__":
    main()
