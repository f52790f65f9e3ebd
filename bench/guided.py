"""Guided actions on durable timers at scale: many pending actions on one worker.

    .venv/bin/python -m bench.guided                       # 100,000 pending actions
    .venv/bin/python -m bench.guided --count 20000 --short 200

No stack needed: it makes a database of its own (`leadpipe_bench_guided_<hex>` on the server
DATABASE_URL names, dropped at the end), starts a Temporal dev server of its own (SQLite under
a temporary directory, on /dev/shm when there is one) and one worker process (`worker.py`, with
its outbox relay), then:

1. seeds `--users` users and `--count` calls that started 2 hours ago with no outcome: each
   one's "Log call outcome" (GA-17) is due at once, open for 7 days (one action per user and
   type, GA-3);
2. measures the raw workflow-start ceiling: signal-with-start of a minimal workflow that only
   sleeps on one 7-day timer, `--concurrency` calls in flight (as many as the relay makes), on
   the same server, worker inside this process; before and after step 3, averaged;
3. owes every call's evaluation in one INSERT into the outbox, as a change would, and times
   until every call has its open item: the relay signals-with-start each call's workflow,
   which evaluates it (activity, one transaction) and sleeps on its 7-day window timer;
4. with those pending, adds `--short` calls whose 1-hour creation delay ends 60 to 90 seconds
   later, and measures each one's timer-fire lag: the item's creation (the workflow's clock
   when it evaluated after the timer) minus the instant the delay ended;
5. prints the worker's RSS (idle, after creation, at the end), the history of one pending
   workflow (events, bytes) and its timers.

`--cache` sets the worker's max_cached_workflows (LEADPIPE_WORKER_CACHED_WORKFLOWS):
compare RSS with a cache that holds every pending workflow and with the default 1000.
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from bench.guided_ceiling import PendingTimer
from bench.percentiles import percentile
from db.migrate import upgrade
from devstack.postgres import create_database, drop_database
from devstack.process import spawn, stop, worker_command
from devstack.temporal import start_dev_server, wait_for_temporal
from domain.guided_evaluation import WORKFLOW_ID_PREFIX
from services.outbox import EVALUATE_GUIDED, EVALUATION_NOTE

ROOT = Path(__file__).resolve().parent.parent
QUEUE = "leadpipe-bench-guided"
CEILING_QUEUE = "leadpipe-bench-guided-ceiling"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def seed(url: str, users: int, calls: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (email, name, role, seat, token_hash)"
            " SELECT 'bench-' || i || '@seller.example', 'Rep ' || i, 'sales_user', 'current',"
            " md5('bench-' || i) FROM generate_series(1, %s) i",
            (users,),
        )
        conn.execute(
            "INSERT INTO calls (owner_id, started_at, status, via_platform)"
            " SELECT u.id, now() - interval '2 hours', 'completed', false"
            " FROM generate_series(0, %s - 1) i"
            " JOIN users u ON u.email = 'bench-' || (i %% %s + 1) || '@seller.example'",
            (calls, users),
        )


def owe_evaluations(url: str, where: str, params: tuple[object, ...] = ()) -> int:
    """One outbox row per call matching `where`, as a change owes them (relayed at once)."""
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(
            "INSERT INTO outbox (kind, workflow_id, payload, attempts, last_error)"
            " SELECT %s, %s || 'call-' || c.id,"
            " jsonb_build_object('object', 'call', 'object_id', c.id), 1, %s"
            f" FROM calls c WHERE {where}",
            (EVALUATE_GUIDED, WORKFLOW_ID_PREFIX, EVALUATION_NOTE, *params),
        )
        return cursor.rowcount


def open_items(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM guided_action_items WHERE ended_at IS NULL"
        ).fetchone()
        return int(row[0]) if row else 0


async def ceiling(client: Client, count: int, concurrency: int) -> float:
    """Workflow starts per second: signal-with-start of PendingTimer, `concurrency` at once."""
    run = uuid.uuid4().hex[:8]
    slots = asyncio.Semaphore(concurrency)

    async def start(i: int) -> None:
        async with slots:
            await client.start_workflow(
                PendingTimer.run,
                id=f"ceiling-{run}-{i}",
                task_queue=CEILING_QUEUE,
                start_signal="changed",
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )

    began = time.perf_counter()
    await asyncio.gather(*(start(i) for i in range(count)))
    return count / (time.perf_counter() - began)


async def until_open(url: str, expected: int, timeout: float, worker_pid: int) -> float:
    """Seconds until `expected` items are open, with progress every 30 s."""
    began = time.perf_counter()
    last_report = began
    while True:
        found = await asyncio.to_thread(open_items, url)
        now = time.perf_counter()
        if found >= expected:
            return now - began
        if now - began > timeout:
            raise TimeoutError(f"{found} of {expected} items open after {timeout:.0f}s")
        if now - last_report > 30:
            rate = found / (now - began)
            print(f"  ... {found} open ({rate:.0f}/s), worker RSS {rss_mb(worker_pid):.0f} MB")
            last_report = now
        await asyncio.sleep(1.0)


def short_timer_lags(url: str, first_id: int) -> list[float]:
    """Per short call: its item's creation minus the end of its 1-hour delay, in ms."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM i.created_at - (c.started_at + interval '1 hour')) * 1000"
            " FROM guided_action_items i JOIN calls c ON c.id = i.object_id"
            " WHERE i.object = 'call' AND c.id >= %s",
            (first_id,),
        ).fetchall()
        return [float(r[0]) for r in rows]


async def fire_breakdown(
    client: Client, url: str, first_id: int
) -> tuple[list[float], list[float]]:
    """Per short call, from its workflow's history (ms): the server's part (timer fired minus
    due) and the worker's pickup (the next workflow task started minus timer fired)."""
    with psycopg.connect(url) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM calls WHERE id >= %s", (first_id,))]
    server: list[float] = []
    pickup: list[float] = []
    for call_id in ids:
        history = await client.get_workflow_handle(
            f"{WORKFLOW_ID_PREFIX}call-{call_id}"
        ).fetch_history()
        due = fired = None
        for e in history.events:
            at = e.event_time.ToDatetime().timestamp()
            if e.HasField("timer_started_event_attributes") and due is None:
                timeout = e.timer_started_event_attributes.start_to_fire_timeout
                due = at + timeout.ToTimedelta().total_seconds()
            elif e.HasField("timer_fired_event_attributes") and fired is None:
                fired = at
            elif e.HasField("workflow_task_started_event_attributes") and fired is not None:
                pickup.append((at - fired) * 1000)
                break
        if due is not None and fired is not None:
            server.append((fired - due) * 1000)
    return sorted(server), sorted(pickup)


async def history_of(client: Client, call_id: int) -> tuple[int, int, int]:
    """(events, bytes, timers started) of one pending call's workflow."""
    history = await client.get_workflow_handle(
        f"{WORKFLOW_ID_PREFIX}call-{call_id}"
    ).fetch_history()
    timers = sum(e.HasField("timer_started_event_attributes") for e in history.events)
    return len(history.events), len(history.to_json()), timers


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000, help="pending actions")
    parser.add_argument("--users", type=int, default=0, help="users (default: --count)")
    parser.add_argument("--short", type=int, default=200, help="short timers among them")
    parser.add_argument("--ceiling-count", type=int, default=0, help="default: min(count, 5000)")
    parser.add_argument("--concurrency", type=int, default=16, help="ceiling's calls in flight")
    parser.add_argument("--cache", type=int, default=1000, help="worker max_cached_workflows")
    parser.add_argument("--temporal-port", type=int, default=7290)
    parser.add_argument("--timeout", type=float, default=7200.0, help="creation, seconds")
    parser.add_argument(
        "--database-server",
        default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    users = args.users or args.count
    ceiling_count = args.ceiling_count or min(args.count, 5000)

    name = f"leadpipe_bench_guided_{uuid.uuid4().hex[:8]}"
    url = create_database(args.database_server, name)
    # The dev server's SQLite file in memory where there is a tmpfs: the figure is Temporal's
    # work, not the disk's fsyncs.
    shm = Path("/dev/shm")
    data = Path(tempfile.mkdtemp(prefix="bench-guided-", dir=shm if shm.is_dir() else None))
    server = start_dev_server(data, args.temporal_port, args.temporal_port + 1)
    worker_process = None
    try:
        upgrade(url)
        address = f"127.0.0.1:{args.temporal_port}"
        client = await wait_for_temporal(address, process=server)
        seed_began = time.perf_counter()
        await asyncio.to_thread(seed, url, users, args.count)
        print(
            f"seeded {users} users, {args.count} calls in {time.perf_counter() - seed_began:.0f}s;"
            f" load {os.getloadavg()[0]:.1f}"
        )
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "LEADPIPE_TEMPORAL_ADDRESS": address,
            "LEADPIPE_TASK_QUEUE": QUEUE,
            "LEADPIPE_WORKER_CACHED_WORKFLOWS": str(args.cache),
            "LEADPIPE_LOG_LEVEL": "WARNING",
            "LEADPIPE_DATA_DIR": str(data),
        }
        log = (data / "worker.log").open("ab")
        worker_process = spawn(worker_command(), env=env, cwd=ROOT, stdout=log)
        await asyncio.sleep(5)
        idle_rss = rss_mb(worker_process.pid)

        async with Worker(client, task_queue=CEILING_QUEUE, workflows=[PendingTimer]):
            before = await ceiling(client, ceiling_count, args.concurrency)
            print(f"raw ceiling before: {before:.0f} starts/s ({ceiling_count} workflows)")

            owed = await asyncio.to_thread(owe_evaluations, url, "true")
            seconds = await until_open(url, owed, args.timeout, worker_process.pid)
            created_rss = rss_mb(worker_process.pid)
            rate = owed / seconds
            print(f"created {owed} pending actions' items in {seconds:.0f}s: {rate:.0f}/s")

            after = await ceiling(client, ceiling_count, args.concurrency)
            print(f"raw ceiling after: {after:.0f} starts/s")

        # Short timers among the pending ones: a delay ending 60 to 90 s from now.
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM calls").fetchone()
            first_short = int(row[0]) if row else 1
            conn.execute(
                "INSERT INTO calls (owner_id, started_at, status, via_platform)"
                " SELECT (SELECT min(id) FROM users) + i %% %s,"
                " now() - interval '1 hour' + interval '60 seconds'"
                "   + (i * 30.0 / %s) * interval '1 second', 'completed', false"
                " FROM generate_series(0, %s - 1) i",
                (users, args.short, args.short),
            )
        owe_evaluations(url, "c.id >= %s", (first_short,))
        await until_open(url, owed + args.short, 600, worker_process.pid)
        lags = sorted(short_timer_lags(url, first_short))
        server_part, pickup = await fire_breakdown(client, url, first_short)
        end_rss = rss_mb(worker_process.pid)
        events, size, timers = await history_of(client, 1)

        ceiling_rate = (before + after) / 2
        print()
        print(f"pending actions (open items)     {owed + args.short}")
        print(f"users / actions                  {users} / {min(users, owed)}")
        print(f"worker max_cached_workflows      {args.cache}")
        print(
            f"raw workflow-start ceiling       {ceiling_rate:.0f}/s (before {before:.0f},"
            f" after {after:.0f})"
        )
        print(f"creation end to end              {rate:.0f}/s")
        print(f"ratio creation / ceiling         {rate / ceiling_rate:.2f}")
        print(
            f"timer-fire lag ({len(lags)} short)       p50 {percentile(lags, 50):.0f} ms,"
            f" p99 {percentile(lags, 99):.0f} ms, max {max(lags):.0f} ms"
        )
        print(
            f"  server: fired - due            p50 {percentile(server_part, 50):.0f} ms,"
            f" p99 {percentile(server_part, 99):.0f} ms"
        )
        print(
            f"  worker: task started - fired   p50 {percentile(pickup, 50):.0f} ms,"
            f" p99 {percentile(pickup, 99):.0f} ms"
        )
        print(
            f"worker RSS                       idle {idle_rss:.0f} MB, after creation"
            f" {created_rss:.0f} MB, end {end_rss:.0f} MB"
        )
        print(f"one pending workflow's history   {events} events, {size} bytes, {timers} timer")
        print(f"load average                     {os.getloadavg()[0]:.1f}")
    finally:
        if worker_process is not None:
            stop(worker_process, 30)
        stop(server, 10)
        drop_database(args.database_server, name)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
