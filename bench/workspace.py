"""Workspace read latency at scale: seed a database, then time every workspace endpoint.

    make bench-workspace                       # = .venv/bin/python -m bench.workspace
    .venv/bin/python -m bench.workspace --reuse --requests 300 --plans

Seeds 200 users with 100k leads, 1M activities, 200k tasks and 50k meetings (and the
contacts, companies, sequences and enrollments they point at) straight into PostgreSQL with
COPY (bench/workspace_seed.py), in a database of its own: `leadpipe_bench_workspace` on the
server DATABASE_URL names, else on an embedded server under `<data dir>/bench-pg`. Users' shares
of the records fall off as 1/sqrt(rank), so the busiest user holds about 4% of everything and
the median one 0.4%.

Then it calls each endpoint in-process (the FastAPI app over an ASGI transport, no Temporal:
these reads never touch it) as the median user and as the busiest, and prints p50/p95/p99.
`--plans` prints EXPLAIN ANALYZE of the statements each endpoint ran for the busiest user.
"""

import argparse
import asyncio
import os
import random
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import event

from api.app import create_app, freeze_startup_objects
from bench.workspace_seed import Sizes, is_seeded, seed, token_of
from config import Settings, get_settings, to_sqlalchemy_url
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from devstack.postgres import create_database, database_url, drop_database, start_embedded

DATABASE = "leadpipe_bench_workspace"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


@dataclass
class Recorded:
    statements: list[tuple[str, Any]]


async def pick(http: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    """Ids the parameterised requests need: a task in the middle of the overdue queue, the
    second feed page's cursor, the user's tasks to bulk-edit."""
    overdue = (await http.get("/v1/tasks?view=overdue&limit=500", headers=headers)).json()
    items = overdue["items"] or (await http.get("/v1/tasks", headers=headers)).json()["items"]
    feed = (await http.get("/v1/workspace/feed", headers=headers)).json()
    return {
        "task_id": items[len(items) // 2]["id"],
        "cursor": feed["next_cursor"],
        "bulk_ids": [t["id"] for t in items[:20]],
    }


def endpoints(ids: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """(name, method, path, body) of each request timed."""
    today = datetime.now(UTC).date().isoformat()
    listed = [
        ("summary", "GET", "/v1/workspace/summary", None),
        ("tasks?view=today", "GET", "/v1/tasks?view=today", None),
        ("tasks?view=overdue", "GET", "/v1/tasks?view=overdue", None),
        ("task queue (overdue)", "GET", f"/v1/tasks/{ids['task_id']}?view=overdue", None),
        ("schedule day", "GET", f"/v1/workspace/schedule?range=day&date={today}", None),
        ("schedule week", "GET", f"/v1/workspace/schedule?range=week&date={today}", None),
        ("schedule month", "GET", f"/v1/workspace/schedule?range=month&date={today}", None),
        ("feed", "GET", "/v1/workspace/feed", None),
        ("feed?type=email_reply", "GET", "/v1/workspace/feed?type=email_reply", None),
        ("feed?enrolled=true", "GET", "/v1/workspace/feed?enrolled=true", None),
        ("leads board", "GET", "/v1/workspace/leads", None),
        (
            "tasks:bulk (edit 20)",
            "POST",
            "/v1/tasks:bulk",
            {"action": "edit", "task_ids": ids["bulk_ids"], "changes": {"priority": "high"}},
        ),
    ]
    if ids["cursor"]:
        listed.insert(8, ("feed page 2", "GET", f"/v1/workspace/feed?cursor={ids['cursor']}", None))
    return listed


async def measure(url: str, args: argparse.Namespace, sizes: Sizes) -> None:
    settings = Settings(database_url=url, log_level="WARNING", log_json=False)
    app = create_app(settings)
    engine = create_engine(to_sqlalchemy_url(url))
    app.state.settings = settings
    app.state.session_factory = create_session_factory(engine)
    app.state.orchestrator = None  # no workspace read reaches Temporal
    freeze_startup_objects()  # as the app's lifespan does, which the ASGI transport skips
    recorded = Recorded([])

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        recorded.statements.append((statement, parameters))

    with psycopg.connect(url) as conn:
        counts = conn.execute(
            "SELECT user_id, count(*) FROM activities GROUP BY user_id ORDER BY 2 DESC"
        ).fetchall()
    busiest = counts[0][0]
    typical = counts[len(counts) // 2][0]
    # Figures from a shared machine mean little without its load: printed before and after.
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        for label, user_id in (("typical", typical), ("busiest", busiest)):
            headers = {"Authorization": f"Bearer {token_of(user_id)}"}
            ids = await pick(http, headers)
            print(f"\n{label} user {user_id} ({_load(url, user_id)})")
            print(f"{'endpoint':28} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
            plans: list[tuple[str, list[tuple[str, Any]]]] = []
            for name, method, path, body in endpoints(ids):
                for _ in range(args.warmup):
                    await _call(http, method, path, body, headers)
                timings = []
                for _ in range(args.requests):
                    started = time.perf_counter()
                    await _call(http, method, path, body, headers)
                    timings.append((time.perf_counter() - started) * 1000)
                recorded.statements.clear()
                await _call(http, method, path, body, headers)
                plans.append((name, list(recorded.statements)))
                print(
                    f"{name:28} {statistics.median(timings):8.1f} "
                    f"{percentile(timings, 95):8.1f} {percentile(timings, 99):8.1f}",
                    flush=True,
                )
            if args.plans and label == "busiest":
                await _explain(engine, plans)
    print(f"\nload average {os.getloadavg()[0]:.1f} after the runs")
    await engine.dispose()


def _load(url: str, user_id: int) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM activities WHERE user_id = %(u)s),"
            " (SELECT count(*) FROM tasks WHERE owner_id = %(u)s),"
            " (SELECT count(*) FROM tasks WHERE owner_id = %(u)s AND status = 'open'),"
            " (SELECT count(*) FROM meetings WHERE owner_id = %(u)s),"
            " (SELECT count(*) FROM leads WHERE owner_id = %(u)s)",
            {"u": user_id},
        ).fetchone()
    assert row is not None
    return f"{row[0]} activities, {row[1]} tasks ({row[2]} open), {row[3]} meetings, {row[4]} leads"


async def _call(
    http: httpx.AsyncClient, method: str, path: str, body: Any, headers: dict[str, str]
) -> None:
    response = await http.request(method, path, json=body, headers=headers)
    if response.status_code != 200:
        raise SystemExit(f"{method} {path}: {response.status_code} {response.text}")


async def _explain(engine: Any, plans: list[tuple[str, list[tuple[str, Any]]]]) -> None:
    """The plan of each statement an endpoint ran, slowest first (its own EXPLAIN ANALYZE)."""
    print("\nquery plans, busiest user (EXPLAIN ANALYZE; statements over 0.3 ms)")
    async with engine.connect() as conn:
        for name, statements in plans:
            if name.startswith("tasks:bulk"):
                continue
            found = []
            for statement, parameters in statements:
                if not statement.lstrip().upper().startswith("SELECT"):
                    continue
                result = await conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                )
                lines = [row[0] for row in result.all()]
                took = float(lines[-1].split(":")[1].split()[0])
                found.append((took, lines))
            print(f"\n=== {name}")
            for took, lines in sorted(found, key=lambda f: -f[0]):
                if took < 0.3:
                    continue
                print("\n".join(lines[:-2]))
                print(f"-- {took:.2f} ms\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reuse", action="store_true", help="keep a seeded database")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per endpoint")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--plans", action="store_true", help="print the busiest user's plans")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size")
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("LEADPIPE_DATA_DIR", ".leadpipe"))
    )
    args = parser.parse_args()
    sizes = Sizes(
        users=200,
        leads=int(100_000 * args.scale),
        activities=int(1_000_000 * args.scale),
        tasks=int(200_000 * args.scale),
        meetings=int(50_000 * args.scale),
    )
    server = get_settings().database_url
    embedded = None
    if not server:
        embedded = start_embedded(args.data_dir / "bench-pg")
        server = embedded.server_url
    try:
        url = database_url(server, DATABASE)
        if not (args.reuse and is_seeded(url)):
            drop_database(server, DATABASE)
            url = create_database(server, DATABASE)
            upgrade(url)
            print(f"seeding {sizes} into {DATABASE}")
            seed(url, sizes, random.Random(20261201))
        asyncio.run(measure(url, args, sizes))
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    main()
