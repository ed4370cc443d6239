"""Specgate benchmark: build a realistic dataset, serve it as in production, load it, report.

    uv run --group bench python bench/run.py            # full: rebuilds the dataset, ~7-8 min
    uv run --group bench python bench/run.py --quick    # short runs, reuses the dataset, ~2.5-3.5 min

Steps: (1) drop and recreate the PostgreSQL database ``specgate_bench``, migrate, collectstatic,
build the dataset and count queries per endpoint with the test Client (``bench/dataset.py``);
(2) start gunicorn (``config/gunicorn.py``, production settings) on a free loopback port and
wait for /readyz; (3) drive each endpoint separately with locust at 1, 10 and 40 concurrent
users; (4) write ``bench/results/latest.json`` and ``bench/results/latest.md``; gunicorn is
always stopped at the end.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from importlib.metadata import version  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import psycopg  # noqa: E402
from locust import FastHttpUser, constant, task  # noqa: E402
from locust.env import Environment  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _env import ADMIN_URL, DB_NAME, RESULTS, ROOT, STATE, bench_env  # noqa: E402
from report import write_reports  # noqa: E402

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
WORKERS = 2  # one per core: the load generator shares the same two cores
MAX_REQUESTS = 50_000  # per run: bounded in count as well as in time


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
    if "answer_probe" not in json.loads(STATE.read_text()):  # made by an older bench/dataset.py
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


def start_server(env: dict, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server_env = {
        **env,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
    }
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
                    log(f"gunicorn ready on {base} ({workers} workers, pid {proc.pid})")
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


def user_class(endpoint: str, base: str, state: dict) -> type[FastHttpUser]:
    review = state["review_id"]
    api = {"Authorization": f"Bearer {state['token']}"}
    page = {"Cookie": f"sessionid={state['sessionid']}"}
    pool = state["answer_items"]
    counter = itertools.count()

    class Bench(FastHttpUser):
        host = base
        wait_time = constant(0)  # closed loop: each user sends its next request at once
        network_timeout = 60.0
        connection_timeout = 60.0

        @task
        def hit(self):
            c = self.client
            if endpoint == "floor":
                c.get("/api/v1/me/", headers=api, name=endpoint)
            elif endpoint == "review_page":
                c.get(f"/reviews/{review}/", headers=page, name=endpoint)
            elif endpoint == "answer_save":
                # Each item is flipped pass -> fail -> pass ... without a version (no 409s).
                k = next(counter)
                item = pool[k % len(pool)]
                verdict = "fail" if (k // len(pool)) % 2 == 0 else "pass"
                c.request(
                    "PATCH",
                    f"/api/v1/reviews/{review}/responses/{item}/",
                    headers=api,
                    json={"verdict": verdict, "note": "Bench flip."},
                    name=endpoint,
                )
            elif endpoint == "gate":
                c.get(f"/api/v1/reviews/{review}/gate/", headers=api, name=endpoint)
            elif endpoint == "dashboard":
                c.get("/", headers=page, name=endpoint)
            elif endpoint == "api_reviews":
                c.get("/api/v1/reviews/?page_size=50", headers=api, name=endpoint)
            elif endpoint == "api_responses":
                c.get(f"/api/v1/reviews/{review}/responses/", headers=api, name=endpoint)
            elif endpoint == "healthz":  # reference only: unauthenticated, no database
                c.get("/healthz", name=endpoint)

    Bench.__name__ = f"Bench_{endpoint}"
    return Bench


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


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def load(endpoint: str, users: int, base: str, state: dict, warmup: float, seconds: float):
    env = Environment(user_classes=[user_class(endpoint, base, state)])
    runner = env.create_local_runner()
    times: list[float] = []
    errors = [0]
    recording = [False]
    samples: list[str] = []

    def on_request(response_time, exception, response=None, **_kw):
        if not recording[0]:
            return
        times.append(response_time)
        if exception is not None:
            errors[0] += 1
            if len(samples) < 3:
                status = getattr(response, "status_code", "?")
                samples.append(f"{status} {str(exception)[:160]}")
        if len(times) >= MAX_REQUESTS:
            recording[0] = False

    env.events.request.add_listener(on_request)
    runner.start(users, spawn_rate=users)
    gevent.sleep(warmup)  # users spawned, connections open, caches warm
    recording[0] = True
    started = time.monotonic()
    while time.monotonic() - started < seconds and recording[0]:
        gevent.sleep(0.1)
    elapsed = time.monotonic() - started
    recording[0] = False
    runner.quit()
    drain(base)
    times.sort()
    row = {
        "endpoint": endpoint,
        "users": users,
        "p50_ms": round(percentile(times, 0.50), 2),
        "p95_ms": round(percentile(times, 0.95), 2),
        "p99_ms": round(percentile(times, 0.99), 2),
        "rps": round(len(times) / elapsed, 1) if elapsed else 0.0,
        "errors": errors[0],
    }
    note = f" first errors: {samples}" if samples else ""
    log(
        f"{endpoint:14} {users:>2} users: p50 {row['p50_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms"
        f"  p99 {row['p99_ms']:7.1f} ms  {row['rps']:7.1f} rps  {len(times)} requests"
        f"  {row['errors']} errors{note}"
    )
    return row


# --- machine -----------------------------------------------------------------------------------


def machine(workers: int) -> dict:
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
        "locust": version("locust"),
        "os": platform.platform(),
    }


# --- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs; reuse the dataset")
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild the dataset even in --quick"
    )
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn workers (2)")
    parser.add_argument("--seconds", type=float, help="measured seconds per run (full 10, quick 4)")
    args = parser.parse_args()
    seconds = args.seconds or (4.0 if args.quick else 10.0)
    warmup = 1.0 if args.quick else 2.0
    started = time.monotonic()
    RESULTS.mkdir(exist_ok=True)
    info = machine(args.workers)

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

    runs = []
    server = None
    try:
        server, base = start_server(env, args.workers)
        ref = load("healthz", 10, base, state, warmup, seconds)
        info["reference_healthz_10_users"] = {k: ref[k] for k in ("p50_ms", "p95_ms", "rps")}
        for endpoint in ENDPOINTS:
            for users in USERS:
                row = load(endpoint, users, base, state, warmup, seconds)
                row["queries"] = measured["queries"][endpoint]["warm"]
                runs.append(row)
    finally:
        stop_server(server)

    info["mode"] = "quick" if args.quick else "full"
    info["seconds_per_run"] = seconds
    info["queries_cold"] = {k: v["cold"] for k, v in measured["queries"].items()}
    info["total_seconds"] = round(time.monotonic() - started)
    write_reports(info, runs, measured["growth"])
    log(f"wrote {RESULTS / 'latest.json'} and latest.md in {info['total_seconds']} s")


if __name__ == "__main__":
    main()
