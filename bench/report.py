"""Write ``bench/results/latest.json`` and ``latest.md`` (or ``subset.*``) from one benchmark run."""

import json

from _env import RESULTS

BUDGET_USERS = 10
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


def budget_rows(runs: list[dict]) -> list[dict]:
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
    return rows


def markdown(machine: dict, runs: list[dict], growth: list[dict]) -> str:
    floors = {r["users"]: r for r in runs if r["endpoint"] == "floor"}
    ds = machine.get("dataset", {})
    lines = [
        f"Measured {machine.get('measured_at', '')} in {machine['mode']} mode "
        f"({machine['seconds_per_run']:.0f} s per run, closed loop, no think time) on "
        f"{machine['cpu']}, {machine['cores']} cores (load average at start "
        f"{', '.join(str(x) for x in machine['load_average_at_start'])}"
        + (
            f"; other processes took {share:.0%} of the CPU during the measured runs"
            if (share := machine.get("other_processes_cpu_share")) is not None
            else ""
        )
        + "); Python "
        f"{machine['python']}, Django {machine['django']}, PostgreSQL {machine['postgres']}, "
        f"gunicorn {machine['gunicorn']} with {machine['gunicorn_workers']} sync workers, "
        f"wrk {machine['wrk']} on the same machine (one connection per user; threads: "
        f"{machine['wrk_threads']}). "
        f"Dataset: {ds.get('projects')} "
        f"projects, {ds.get('specs')} specs, {ds.get('reviews')} reviews, "
        f"{ds.get('responses')} answers; the review under test holds "
        f"{ds.get('review_items')} items. `floor` is GET /api/v1/me/ with a Bearer token"
        + (
            f"; for reference, /healthz (no auth, no database) at 10 users: p50 "
            f"{ref['p50_ms']:.1f} ms, {ref['rps']:.0f} rps."
            if (ref := machine.get("reference_healthz_10_users"))
            else "."
        ),
        "",
        "| endpoint | users | p50 ms | p95 ms | p99 ms | rps | errors | queries "
        "| rps ÷ floor | p50 ÷ floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in runs:
        floor = floors.get(r["users"], {})
        lines.append(
            f"| {r['endpoint']} | {r['users']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} "
            f"| {r['p99_ms']:.1f} | {r['rps']:.1f} | {r['errors']} | {r['queries']} "
            f"| {_ratio(r['rps'], floor.get('rps', 0))} "
            f"| {_ratio(r['p50_ms'], floor.get('p50_ms', 0))} |"
        )
    lines += [
        "",
        f"Budgets (at {BUDGET_USERS} concurrent users):",
        "",
        "| endpoint | budget | measured | |",
        "| --- | --- | --- | --- |",
    ]
    for b in budget_rows(runs):
        lines.append(
            f"| {b['endpoint']} | {b['budget']} | {b['measured']} "
            f"| {'met' if b['met'] else '**missed**'} |"
        )
    lines += [
        "",
        "Growth (one request at a time through Django's test Client, p50 of repeated calls):",
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
    machine: dict, runs: list[dict], growth: list[dict], stem: str = "latest"
) -> None:
    import time

    machine.setdefault("measured_at", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    keys = ("endpoint", "users", "p50_ms", "p95_ms", "p99_ms", "rps", "errors", "queries")
    data = {
        "machine": machine,
        "runs": [{k: r[k] for k in keys} for r in runs],
        "growth": [{k: g[k] for k in ("endpoint", "size", "p50_ms", "queries")} for g in growth],
    }
    (RESULTS / f"{stem}.json").write_text(json.dumps(data, indent=2) + "\n")
    (RESULTS / f"{stem}.md").write_text(markdown(machine, runs, growth))
