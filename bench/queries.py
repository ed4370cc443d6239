"""Print the SQL of one request per endpoint, slowest first (run after bench/run.py built the data):

uv run --group bench python bench/queries.py [endpoint ...]
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _env import STATE, bench_env  # noqa: E402

if __name__ == "__main__":
    import os

    state = json.loads(STATE.read_text())
    env = bench_env(extra_hosts="testserver")
    env["DJANGO_SECRET_KEY"] = state["secret_key"]
    os.environ.update(env)

    from dataset import Probe  # sets Django up: import it first
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lead = get_user_model().objects.get(email="lead@bench.example")
    probe = Probe(lead, state["token"])
    wanted = sys.argv[1:] or ["review_page", "gate", "dashboard", "api_reviews", "api_responses"]
    for endpoint in wanted:
        probe.request(endpoint, state["review_id"], state["answer_items"][0])  # warm-up
        with CaptureQueriesContext(connection) as ctx:
            probe.request(endpoint, state["review_id"], state["answer_items"][0])
        total = sum(float(q["time"]) for q in ctx.captured_queries)
        print(f"== {endpoint}: {len(ctx.captured_queries)} queries, {total * 1000:.1f} ms in SQL")
        for q in sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:8]:
            print(f"  {float(q['time']) * 1000:7.1f} ms  {q['sql'][:220]}")
