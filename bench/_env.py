"""Environment shared by the benchmark steps: production settings against `specgate_bench`."""

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
STATE = RESULTS / ".state.json"  # tokens, ids: written by the dataset step, read by the driver
DB_NAME = "specgate_bench"
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"


def bench_env(extra_hosts: str = "") -> dict[str, str]:
    """The environment of every Django process of the benchmark (production settings)."""
    env = dict(os.environ)
    hosts = "127.0.0.1,localhost" + (f",{extra_hosts}" if extra_hosts else "")
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": env.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(48)[:64],
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_ALLOWED_HOSTS": hosts,
            "DJANGO_LOG_LEVEL": "WARNING",
            "CACHE_URL": "redis://127.0.0.1:6379/5",
            "DATABASE_URL": DATABASE_URL,
            "UV_PYTHON_DOWNLOADS": "never",
            # One user drives hundreds of requests a second: the per-user API throttle
            # (6000/min by default) would turn the benchmark into a 429 test. The throttle
            # still runs (its cache round trip is part of every API request's cost).
            "API_THROTTLE_USER": "10000000/min",
        }
    )
    return env
