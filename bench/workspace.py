"""Workspace read latency at scale: seed a database, then time every workspace endpoint.

    make bench-workspace                       # = .venv/bin/python -m bench.workspace
    .venv/bin/python -m bench.workspace --reuse --requests 300 --plans

Seeds 200 users with 100k leads, 1M activities, 200k tasks and 50k meetings (and the
contacts, companies, sequences and enrollments they point at) straight into PostgreSQL with
COPY, in a database of its own: `leadpipe_bench_workspace` on the server DATABASE_URL names,
else on an embedded server under `<data dir>/bench-pg`. Users' shares of the records fall off
as 1/sqrt(rank), so the busiest user holds about 4% of everything and the median one 0.4%.

Then it calls each endpoint in-process (the FastAPI app over an ASGI transport, no Temporal:
these reads never touch it) as the median user and as the busiest, and prints p50/p95/p99.
`--plans` prints EXPLAIN ANALYZE of the statements each endpoint ran for the busiest user.
"""

import argparse
import asyncio
import hashlib
import json
import os
import random
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import event

from api.app import create_app, freeze_startup_objects
from config import Settings, get_settings, to_sqlalchemy_url
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from devstack.postgres import create_database, database_url, drop_database, start_embedded

DATABASE = "leadpipe_bench_workspace"
ZONES = [
    "UTC",
    "Europe/Helsinki",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Kiritimati",
]
ACTIVITY_TYPES = (
    ("email_sent", 40),
    ("email_open", 20),
    ("email_reply", 10),
    ("call", 15),
    ("meeting", 5),
    ("note", 7),
    ("linkedin_message", 3),
)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Sizes:
    users: int
    leads: int
    activities: int
    tasks: int
    meetings: int

    @property
    def contacts(self) -> int:
        return self.leads

    @property
    def companies(self) -> int:
        return max(1, self.leads // 5)


def token_of(user_id: int) -> str:
    return f"lp_bench_{user_id}"


def _copy(
    conn: psycopg.Connection[Any], table: str, columns: str, rows: Iterator[tuple[Any, ...]]
) -> int:
    count = 0
    with conn.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def seed(url: str, sizes: Sizes, rng: random.Random) -> None:
    """Everything through COPY, in one transaction, then VACUUM ANALYZE (visibility maps
    for index-only scans, statistics for the planner)."""
    now = datetime.now(UTC)
    ranks = range(1, sizes.users + 1)
    cum: list[float] = []
    total = 0.0
    for rank in ranks:
        total += 1 / rank**0.5
        cum.append(total)

    def owners(n: int) -> list[int]:
        return rng.choices(list(ranks), cum_weights=cum, k=n)

    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        stage_rows = conn.execute(
            "SELECT s.id, p.id FROM stages s JOIN pipelines p ON p.id = s.pipeline_id "
            "WHERE p.object = 'lead' AND p.is_default AND s.removed_at IS NULL ORDER BY s.position"
        ).fetchall()
        stage_ids = [s for s, _ in stage_rows]
        pipeline_id = stage_rows[0][1]

        _copy(
            conn,
            "users",
            "id, email, name, role, seat, time_zone, token_hash",
            (
                (
                    i,
                    f"rep{i}@bench.example",
                    f"Rep {i}",
                    "sales_user",
                    "current",
                    ZONES[i % len(ZONES)],
                    hashlib.sha256(token_of(i).encode()).hexdigest(),
                )
                for i in ranks
            ),
        )
        company_owner = owners(sizes.companies)
        _copy(
            conn,
            "companies",
            "id, name, domain, is_target_account, owner_id",
            (
                (i, f"Company {i}", f"c{i}.example", rng.random() < 0.1, company_owner[i - 1])
                for i in range(1, sizes.companies + 1)
            ),
        )
        contact_owner = owners(sizes.contacts)
        contacts_of: dict[int, list[int]] = {u: [] for u in ranks}
        for contact_id, owner in enumerate(contact_owner, start=1):
            contacts_of[owner].append(contact_id)
        _copy(
            conn,
            "contacts",
            "id, email, first_name, last_name, company_id, owner_id, lifecycle_stage",
            (
                (
                    i,
                    f"p{i}@c{i % sizes.companies + 1}.example",
                    f"First{i}",
                    f"Last{i}",
                    i % sizes.companies + 1,
                    contact_owner[i - 1],
                    "lead",
                )
                for i in range(1, sizes.contacts + 1)
            ),
        )
        stage_weights = [max(1, 8 - 2 * i) for i in range(len(stage_ids))]
        lead_stage = rng.choices(stage_ids, weights=stage_weights, k=sizes.leads)
        _copy(
            conn,
            "leads",
            "id, name, contact_id, pipeline_id, stage_id, owner_id, created_at, updated_at",
            (
                (
                    i,
                    f"Lead {i}",
                    i,
                    pipeline_id,
                    lead_stage[i - 1],
                    contact_owner[i - 1],
                    created := now - rng.random() * 400 * DAY,
                    created,
                )
                for i in range(1, sizes.leads + 1)
            ),
        )

        def task_rows() -> Iterator[tuple[Any, ...]]:
            for i, owner in enumerate(owners(sizes.tasks), start=1):
                mine = contacts_of[owner]
                contact = rng.choice(mine) if mine else None
                due = None if rng.random() < 0.1 else now + (rng.random() * 425 - 365) * DAY
                past = due is not None and due < now
                done = rng.random() < (0.85 if past else 0.05)
                completed = (due if due and past else now - rng.random() * DAY) if done else None
                yield (
                    i,
                    f"Task {i}",
                    rng.choice(("todo", "call", "email")),
                    rng.choice(("none", "low", "medium", "high")),
                    "completed" if done else "open",
                    due,
                    owner,
                    contact,
                    contact,  # one lead per contact, same id
                    completed,
                )

        _copy(
            conn,
            "tasks",
            "id, title, type, priority, status, due_at, owner_id, contact_id, lead_id, "
            "completed_at",
            task_rows(),
        )

        meeting_contacts: list[tuple[int, int]] = []

        def meeting_rows() -> Iterator[tuple[Any, ...]]:
            for i, owner in enumerate(owners(sizes.meetings), start=1):
                start = now + (rng.random() * 330 - 300) * DAY
                start = start.replace(minute=start.minute // 15 * 15, second=0, microsecond=0)
                busy = rng.random() < 0.04
                length = (
                    timedelta(hours=rng.choice((1, 4, 24, 72)))
                    if busy
                    else timedelta(minutes=rng.choice((30, 45, 60)))
                )
                mine = contacts_of[owner]
                if not busy and mine:
                    for contact in set(rng.choices(mine, k=rng.choice((1, 1, 2)))):
                        meeting_contacts.append((i, contact))
                yield (
                    i,
                    owner,
                    "busy" if busy else "meeting",
                    "Out of office" if busy else f"Meeting {i}",
                    start,
                    start + length,
                    None if busy else ("completed" if start < now else "scheduled"),
                    None if busy else f"https://meet.example.com/{i}",
                )

        _copy(
            conn,
            "meetings",
            "id, owner_id, kind, title, start_at, end_at, outcome, meeting_url",
            meeting_rows(),
        )
        _copy(conn, "meeting_contacts", "meeting_id, contact_id", iter(meeting_contacts))

        kinds = [k for k, _ in ACTIVITY_TYPES]
        weights = [w for _, w in ACTIVITY_TYPES]
        activity_owner = owners(sizes.activities)
        activity_type = rng.choices(kinds, weights=weights, k=sizes.activities)
        # Stored in time order, as activities arrive.
        times = sorted(now - rng.random() * 400 * DAY for _ in range(sizes.activities))
        email = json.dumps({"email": {"to": ["p@c.example"], "from": "rep@bench.example"}})
        call = json.dumps({"call": {"status": "completed", "outcome": "connected"}})

        def activity_rows() -> Iterator[tuple[Any, ...]]:
            for i in range(sizes.activities):
                owner = activity_owner[i]
                mine = contacts_of[owner]
                kind = activity_type[i]
                contact = rng.choice(mine) if mine and rng.random() < 0.97 else None
                details = email if kind.startswith("email") else call if kind == "call" else "{}"
                yield (
                    f"bench-{i}",
                    kind,
                    times[i],
                    owner,
                    contact,
                    contact,
                    details,
                )

        _copy(
            conn,
            "activities",
            "event_id, type, occurred_at, user_id, contact_id, lead_id, details",
            activity_rows(),
        )
        _copy(
            conn,
            "sequences",
            "id, name",
            ((i, f"Sequence {i}") for i in range(1, 11)),
        )
        enrolled = rng.sample(range(1, sizes.contacts + 1), k=min(10_000, sizes.contacts))
        _copy(
            conn,
            "sequence_enrollments",
            "sequence_id, contact_id, user_id",
            ((1 + c % 10, c, contact_owner[c - 1]) for c in enrolled),
        )
        for table in ("users", "companies", "contacts", "leads", "tasks", "meetings", "sequences"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        conn.commit()
    print(f"seeded in {time.perf_counter() - started:.0f} s; vacuuming")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"ready after {time.perf_counter() - started:.0f} s")


def is_seeded(url: str) -> bool:
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM users WHERE email LIKE '%@bench.example'")
            found = row.fetchone()
            return bool(found and found[0])
    except psycopg.Error:
        return False


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
