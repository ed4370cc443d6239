"""Write ``bench/results/latest.json`` and ``latest.md`` (or ``subset.*``) from one benchmark run."""

import json

from _env import RESULTS

BUDGET_USERS = 10
THROUGHPUT_SHARE = 1 / 3  # of the floor's rate, at capacity (closed loop)
THROUGHPUT_ENDPOINTS = ["answer_save", "api_reviews", "api_responses"]
# endpoint -> (p95 budget in ms, query budget or None)
BUDGETS = {
    "answer_save": (25, None),
    "gate": (25, None),
    "review_page": (150, 12),
    "dashboard": (50, None),
    "api_reviews": (50, None),
    "api_responses": (50, None),
}


def _ratio(value: float, floor: float) -> str:
    return f"{value / floor:.2f}" if floor else "–"


def budget_rows(
    runs: list[dict], capacity: list[dict], growth: list[dict] | None = None
) -> list[dict]:
    rows = []
    at = {r["endpoint"]: r for r in runs if r["users"] == BUDGET_USERS}
    for endpoint, (p95_budget, query_budget) in BUDGETS.items():
        run = at.get(endpoint)
        if run is None:
            continue
        checks = [run["p95_ms"] <= p95_budget and run["errors"] == 0]
        wanted = f"p95 ≤ {p95_budget} ms"
        got = f"p95 {run['p95_ms']:.1f} ms"
        if query_budget is not None:
            checks.append(run["queries"] <= query_budget)
            wanted += f", ≤ {query_budget} queries"
            got += f", {run['queries']} queries"
        if run["errors"]:
            got += f", {run['errors']} errors"
        rows.append({"endpoint": endpoint, "budget": wanted, "measured": got, "met": all(checks)})
    rates = {r["endpoint"]: r for r in capacity}
    floor = rates.get("floor")
    for endpoint in THROUGHPUT_ENDPOINTS:
        if floor is None or endpoint not in rates:
            continue
        share = rates[endpoint]["rps"] / floor["rps"] if floor["rps"] else 0.0
        rows.append(
            {
                "endpoint": endpoint,
                "budget": "throughput ≥ ⅓ of the floor's",
                "measured": f"{rates[endpoint]['rps']:.0f} rps = {share:.2f} × floor",
                "met": share >= THROUGHPUT_SHARE and rates[endpoint]["errors"] == 0,
            }
        )
    errors = sum(r["errors"] for r in [*runs, *capacity])
    if runs:
        rows.append(
            {
                "endpoint": "every endpoint",
                "budget": "zero errors",
                "measured": f"{errors} errors",
                "met": errors == 0,
            }
        )
    sizes: dict[str, set[int]] = {}
    for g in growth or []:
        sizes.setdefault(g["endpoint"], set()).add(g["queries"])
    if sizes:
        grew = sorted(e for e, counts in sizes.items() if len(counts) > 1)
        rows.append(
            {
                "endpoint": "every endpoint",
                "budget": "queries do not grow with the data",
                "measured": "grew: " + ", ".join(grew) if grew else "constant at every size",
                "met": not grew,
            }
        )
    return rows


def markdown(
    machine: dict,
    runs: list[dict],
    growth: list[dict],
    capacity: list[dict] | None = None,
    uncached: list[dict] | None = None,
) -> str:
    capacity, uncached = capacity or [], uncached or []
    floors = {r["users"]: r for r in runs if r["endpoint"] == "floor"}
    ds = machine.get("dataset", {})
    think = machine.get("think_ms")
    users_are = (
        f"interactive users: each waits {think[0]}-{think[1]} ms after an answer"
        if think
        else "closed loop, no think time"
    )
    lines = [
        f"Measured {machine.get('measured_at', '')} in {machine['mode']} mode "
        f"({machine['seconds_per_run']:.0f} s per run) on "
        f"{machine['cpu']}, {machine['cores']} cores (load average at start "
        f"{', '.join(str(x) for x in machine['load_average_at_start'])}"
        + (
            f"; other processes took {share:.0%} of the CPU during the measured runs"
            if (share := machine.get("other_processes_cpu_share")) is not None
            else ""
        )
        + (
            f"; the host stole {steal:.0%} of it (at most {machine['steal_share_max']:.0%} in a"
            " run)"
            if (steal := machine.get("steal_share")) is not None
            else ""
        )
        + "); Python "
        f"{machine['python']}, Django {machine['django']}, PostgreSQL {machine['postgres']}, "
        f"gunicorn {machine['gunicorn']} with {machine['gunicorn_workers']} sync workers, "
        f"wrk {machine['wrk']} on the same machine (one connection per user). "
        f"Dataset: {ds.get('projects')} "
        f"projects, {ds.get('specs')} specs, {ds.get('reviews')} reviews, "
        f"{ds.get('responses')} answers; the review under test holds "
        f"{ds.get('review_items')} items. `floor` is GET /api/v1/me/ with a Bearer token"
        + (
            f"; for reference, /healthz (no auth, no database) at 10 closed-loop users: p50 "
            f"{ref['p50_ms']:.1f} ms, {ref['rps']:.0f} rps."
            if (ref := machine.get("reference_healthz_10_users"))
            else "."
        ),
    ]
    if runs:
        lines += [
            "",
            f"Latency ({users_are}; the gate, dashboard and API lists answered from the read "
            "cache, as between changes):",
            "",
            "| endpoint | users | p50 ms | p95 ms | p99 ms | rps | errors | queries "
            "| p50 ÷ floor |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in runs:
            floor = floors.get(r["users"], {})
            lines.append(
                f"| {r['endpoint']} | {r['users']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} "
                f"| {r['p99_ms']:.1f} | {r['rps']:.1f} | {r['errors']} | {r['queries']} "
                f"| {_ratio(r['p50_ms'], floor.get('p50_ms', 0))} |"
            )
    if capacity:
        floor_rps = next((r["rps"] for r in capacity if r["endpoint"] == "floor"), 0)
        lines += [
            "",
            f"Capacity ({machine.get('capacity_users', 10)} users in a closed loop, no think "
            "time: each sends its next request as soon as the answer is in):",
            "",
            "| endpoint | p50 ms | p95 ms | p99 ms | rps | errors | rps ÷ floor |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in capacity:
            lines.append(
                f"| {r['endpoint']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} "
                f"| {r['rps']:.1f} | {r['errors']} | {_ratio(r['rps'], floor_rps)} |"
            )
    if uncached:
        cached = {r["endpoint"]: r for r in runs if r["users"] == BUDGET_USERS}
        lines += [
            "",
            f"Built afresh (read cache off, {BUDGET_USERS} {users_are}): every read as right "
            "after a change",
            "",
            "| endpoint | p50 ms | p95 ms | p99 ms | rps | errors | queries | p95 cached ms |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in uncached:
            hit = cached.get(r["endpoint"])
            lines.append(
                f"| {r['endpoint']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} "
                f"| {r['rps']:.1f} | {r['errors']} | {r['queries']} "
                f"| {f'{hit["p95_ms"]:.1f}' if hit else '–'} |"
            )
    lines += [
        "",
        f"Budgets (latency at {BUDGET_USERS} interactive users, throughput at capacity):",
        "",
        "| endpoint | budget | measured | |",
        "| --- | --- | --- | --- |",
    ]
    for b in budget_rows(runs, capacity, growth):
        lines.append(
            f"| {b['endpoint']} | {b['budget']} | {b['measured']} "
            f"| {'met' if b['met'] else '**missed**'} |"
        )
    lines += [
        "",
        "Growth (one request at a time through Django's test Client, read cache off, p50 of "
        "repeated calls):",
        "",
        "| endpoint | size | p50 ms | queries |",
        "| --- | ---: | ---: | ---: |",
    ]
    for g in growth:
        unit = "reviews in the database" if g["endpoint"] == "api_reviews" else "items"
        lines.append(
            f"| {g['endpoint']} | {g['size']} {unit} | {g['p50_ms']:.1f} | {g['queries']} |"
        )
    return "\n".join(lines) + "\n"


def write_reports(
    machine: dict,
    runs: list[dict],
    growth: list[dict],
    capacity: list[dict] | None = None,
    uncached: list[dict] | None = None,
    stem: str = "latest",
) -> None:
    """``runs``: interactive users (the latency budgets); ``capacity``: closed-loop runs (the
    throughput budget); ``uncached``: the cached reads with the read cache off."""
    import time

    capacity, uncached = capacity or [], uncached or []
    machine.setdefault("measured_at", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    keys = ("endpoint", "users", "p50_ms", "p95_ms", "p99_ms", "rps", "errors", "queries")
    data = {
        "machine": machine,
        "runs": [{k: r[k] for k in keys} for r in runs],
        "capacity": [{k: r[k] for k in keys} for r in capacity],
        "uncached": [{k: r[k] for k in keys} for r in uncached],
        "growth": [{k: g[k] for k in ("endpoint", "size", "p50_ms", "queries")} for g in growth],
        "budgets": budget_rows(runs, capacity, growth),
    }
    (RESULTS / f"{stem}.json").write_text(json.dumps(data, indent=2) + "\n")
    (RESULTS / f"{stem}.md").write_text(markdown(machine, runs, growth, capacity, uncached))
