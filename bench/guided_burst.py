"""Guided-action work for a burst of changes to few records: Temporal runs, history events,
server calls and CPU per activity.

    .venv/bin/python -m bench.guided_burst                      # 10 leads x 20 notes, 0.25 s apart
    .venv/bin/python -m bench.guided_burst --leads 1 --activities 20 --gap 0

No stack needed: a database of its own (`leadpipe_bench_burst_<hex>`, dropped at the end), a
Temporal dev server of its own and one worker process (`worker.py`, with its outbox relay).
It seeds `--leads` leads, each with its own owner and contact, then posts `--activities` notes
by the owner to each lead (and its contact), one round every `--gap` seconds, through the
activity service: each note owes the evaluation of its contact and its lead, which the relay
delivers. Nothing in it is due by time (`seed`), so once the outbox is empty every guided
workflow closes (an idle one after its idle period); then it prints, per activity and in total:

- guided workflow runs, signals (one per delivery: a signal-with-start call each), workflow
  tasks (a poll and a completion by the worker each), evaluations (local activities, markers)
  and history events, over every run of every guided workflow;
- CPU of the worker and of the Temporal server (`/proc/<pid>/stat`, children included) over
  the whole run, less what each burns idle over as long (measured for `--idle` seconds
  before). A shared machine makes these noisy; the counts are exact.
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus

from bench.breakdown import _stat
from config import to_sqlalchemy_url
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from devstack.postgres import create_database, drop_database
from devstack.process import spawn, stop, worker_command
from devstack.temporal import start_dev_server, wait_for_temporal
from services import activities as activity_service
from services.activities import NewActivity

ROOT = Path(__file__).resolve().parent.parent
QUEUE = "leadpipe-bench-guided-burst"


def seed(url: str, leads: int) -> list[tuple[int, int, int]]:
    """(owner, contact, lead) per lead, the lead in the default pipeline's first stage. The
    contact has no owner, so no contact type holds for it; the owner's first note ends the
    lead's GA-11 before it is made: no verdict waits for time, and every run closes."""
    made: list[tuple[int, int, int]] = []
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT s.pipeline_id, s.id FROM stages s JOIN pipelines p ON p.id = s.pipeline_id"
            " WHERE p.object = 'lead' AND p.is_default AND s.removed_at IS NULL"
            " ORDER BY s.position LIMIT 1"
        ).fetchone()
        assert row is not None, "no default lead pipeline"
        pipeline_id, stage_id = row
        for i in range(leads):
            tag = uuid.uuid4().hex[:10]
            user = conn.execute(
                "INSERT INTO users (email, name, role, seat, token_hash)"
                " VALUES (%s, %s, 'sales_user', 'current', %s) RETURNING id",
                (f"rep-{tag}@seller.example", f"Rep {i}", tag * 4),
            ).fetchone()
            assert user is not None
            contact = conn.execute(
                "INSERT INTO contacts (first_name, email) VALUES ('Ann', %s) RETURNING id",
                (f"ann-{tag}@buyer.example",),
            ).fetchone()
            assert contact is not None
            lead = conn.execute(
                "INSERT INTO leads (name, pipeline_id, stage_id, owner_id, contact_id)"
                " VALUES (%s, %s, %s, %s, %s) RETURNING id",
                (f"Lead {i}", pipeline_id, stage_id, user[0], contact[0]),
            ).fetchone()
            assert lead is not None
            made.append((user[0], contact[0], lead[0]))
    return made


def outbox_size(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM outbox").fetchone()
        return int(row[0]) if row else 0


def cpu(pid: int) -> float:
    """CPU seconds of a process and its reaped children."""
    stat = _stat(pid)
    return stat[1] if stat else 0.0


def cpu_of(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu(pid) for name, pid in pids.items()}


async def guided_runs(client: Client) -> list[tuple[str, str, WorkflowExecutionStatus | None]]:
    return [
        (w.id, w.run_id, w.status)
        async for w in client.list_workflows("WorkflowType = 'GuidedObjectWorkflow'")
    ]


async def until_closed(client: Client, timeout: float) -> None:
    """Until every guided run has closed (visibility is eventually consistent: twice)."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2:
        runs = await guided_runs(client)
        open_runs = [r for r in runs if r[2] == WorkflowExecutionStatus.RUNNING]
        quiet = quiet + 1 if runs and not open_runs else 0
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(open_runs)} guided runs still open after {timeout:.0f}s")
        await asyncio.sleep(1.0)


async def history_counts(client: Client) -> tuple[int, Counter[str]]:
    """(runs, events by type) over every run of every guided workflow."""
    runs = await guided_runs(client)
    counts: Counter[str] = Counter()
    for workflow_id, run_id, _ in runs:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        for event in history.events:
            counts[EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")] += 1
    return len(runs), counts


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=10)
    parser.add_argument("--activities", type=int, default=20, help="notes per lead")
    parser.add_argument("--gap", type=float, default=0.25, help="seconds between rounds")
    parser.add_argument("--idle", type=float, default=10.0, help="idle CPU measured, seconds")
    parser.add_argument("--timeout", type=float, default=600.0, help="for every run to close")
    parser.add_argument("--temporal-port", type=int, default=7296)
    parser.add_argument(
        "--database-server",
        default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()

    name = f"leadpipe_bench_burst_{uuid.uuid4().hex[:8]}"
    url = create_database(args.database_server, name)
    shm = Path("/dev/shm")
    data = Path(tempfile.mkdtemp(prefix="bench-burst-", dir=shm if shm.is_dir() else None))
    server = start_dev_server(data, args.temporal_port, args.temporal_port + 1)
    worker_process = None
    engine = None
    try:
        upgrade(url)
        address = f"127.0.0.1:{args.temporal_port}"
        client = await wait_for_temporal(address, process=server)
        records = await asyncio.to_thread(seed, url, args.leads)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "LEADPIPE_TEMPORAL_ADDRESS": address,
            "LEADPIPE_TASK_QUEUE": QUEUE,
            "LEADPIPE_LOG_LEVEL": "WARNING",
            "LEADPIPE_DATA_DIR": str(data),
        }
        log = (data / "worker.log").open("ab")
        worker_process = spawn(worker_command(), env=env, cwd=ROOT, stdout=log)
        await asyncio.sleep(5)
        pids = {"worker": worker_process.pid, "temporal": server.pid}
        idle_before = cpu_of(pids)
        await asyncio.sleep(args.idle)
        idle_rate = {k: (v - idle_before[k]) / args.idle for k, v in cpu_of(pids).items()}

        engine = create_engine(to_sqlalchemy_url(url))
        sessions = create_session_factory(engine)
        began = time.monotonic()
        before = cpu_of(pids)
        for round_ in range(args.activities):
            for owner, contact, lead in records:
                note = NewActivity(
                    event_id=f"burst-{uuid.uuid4().hex}",
                    type="note",
                    occurred_at=datetime.now(UTC),
                    user_id=owner,
                    contact_id=contact,
                    lead_id=lead,
                    details={"note": {"body": f"note {round_}"}},
                )
                async with sessions() as session, session.begin():
                    await activity_service.store_activity(session, note)
            await asyncio.sleep(args.gap)
        ingested = time.monotonic() - began
        while await asyncio.to_thread(outbox_size, url):
            await asyncio.sleep(0.5)
        drained = time.monotonic() - began
        await until_closed(client, args.timeout)
        closed = time.monotonic() - began
        after = cpu_of(pids)
        runs, counts = await history_counts(client)

        activities = args.leads * args.activities
        print(
            f"{args.leads} leads x {args.activities} notes, {args.gap:g} s apart: ingest"
            f" {ingested:.1f} s, outbox empty at {drained:.1f} s, every run closed at"
            f" {closed:.1f} s"
        )
        shown = (
            ("runs", runs),
            ("signals (deliveries)", counts["WORKFLOW_EXECUTION_SIGNALED"]),
            ("workflow tasks", counts["WORKFLOW_TASK_COMPLETED"]),
            ("evaluations", counts["MARKER_RECORDED"]),
            ("timers started", counts["TIMER_STARTED"]),
            ("history events", sum(counts.values())),
        )
        for label, value in shown:
            print(f"  {label:<22} {value:6d}  per activity {value / activities:.2f}")
        for role in pids:
            spent = after[role] - before[role] - idle_rate[role] * closed
            print(
                f"  CPU {role:<18} {spent:6.2f} s over idle, per activity"
                f" {spent * 1000 / activities:.1f} ms"
            )
        print(f"  load average           {os.getloadavg()[0]:.1f}")
    finally:
        if engine is not None:
            await engine.dispose()
        if worker_process is not None:
            stop(worker_process, 30)
        stop(server, 10)
        drop_database(args.database_server, name)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
