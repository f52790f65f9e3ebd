"""Where a benchmark's work goes: CPU per process of a running stack, Temporal work per event.

CPU: `/proc/<pid>/stat` user + system time of each of the stack's processes (and their
children, e.g. PostgreSQL's backends), read before and after a run; steadier than throughput on
a shared machine. The processes are the children of `python -m devstack run` (`--stack-pid`),
named by their command line. The benchmarks take off what each burns idle (polls, the
outbox relay, timers) over as long, measured for 5 s before the run.

Temporal work: workflow histories counted by event type, a lead's from its first signal (or
update) on, so what the lead's creation cost is left out. Each workflow task is a poll and a
completion by the worker, each activity task another two calls, each signal one call by the
API; markers are local activities (no call of their own), upserts a visibility write on the
server.
"""

import asyncio
import json
import os
import time
from collections import Counter
from collections.abc import Awaitable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
from prometheus_client.parser import text_string_to_metric_families
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from domain.guided import ObjectKind
from domain.guided_evaluation import guided_workflow_id

T = TypeVar("T")

TICKS = os.sysconf("SC_CLK_TCK")
# Which of the stack's processes a command line is, first match wins.
ROLES = (("worker.py", "worker"), ("uvicorn", "api"), ("temporal", "temporal"), ("postgres", "pg"))


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a living process, with its reaped children's (a
    PostgreSQL backend that ended counts in its postmaster's)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), sum(int(f) for f in fields[11:15]) / TICKS


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def stack_cpu(stack_pid: int, data_dir: Path) -> dict[str, float]:
    """CPU seconds so far of each role's process tree under the devstack process; the
    embedded PostgreSQL runs detached, found by its data directory."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            stats[int(entry)] = stat
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)

    def tree(pid: int) -> float:
        return stats[pid][1] + sum(tree(c) for c in children.get(pid, []))

    cpu: dict[str, float] = {}
    for child in children.get(stack_pid, []):
        line = _cmdline(child)
        role = next((name for needle, name in ROLES if needle in line), None)
        if role is not None:
            cpu[role] = cpu.get(role, 0.0) + tree(child)
    postmaster = f"-D {data_dir.resolve() / 'pg'} "
    for pid, (parent, _) in stats.items():
        if parent == 1 and postmaster in _cmdline(pid):
            cpu["pg"] = cpu.get("pg", 0.0) + tree(pid)
    return cpu


def own_cpu() -> float:
    stat = _stat(os.getpid())
    return stat[1] if stat else 0.0


def cpu_now(stack_pid: int | None, data_dir: Path) -> dict[str, float]:
    """CPU seconds so far of the stack's processes (none without `stack_pid`) and of this one
    (`bench`)."""
    cpu = stack_cpu(stack_pid, data_dir) if stack_pid else {}
    cpu["bench"] = own_cpu()
    return cpu


async def idle_cpu(stack_pid: int | None, data_dir: Path, seconds: float = 5.0) -> dict[str, float]:
    """CPU seconds per second of each stack process while nothing is asked of it."""
    if not stack_pid:
        return {}
    before = stack_cpu(stack_pid, data_dir)
    await asyncio.sleep(seconds)
    after = stack_cpu(stack_pid, data_dir)
    return {k: (after[k] - before.get(k, 0.0)) / seconds for k in after}


def plus_idle(before: dict[str, float], idle: dict[str, float], seconds: float) -> dict[str, float]:
    """`before` moved on by what each process burns idle over `seconds` (polls, the outbox
    relay, timers): taken off a run's CPU, it leaves the run's own work."""
    return {k: v + idle.get(k, 0.0) * seconds for k, v in before.items()}


async def with_cpu_line(
    work: Awaitable[T],
    stack_pid: int | None,
    data_dir: Path,
    idle: dict[str, float],
    per: int,
    what: str,
) -> tuple[T, str]:
    """`work`'s result, and the `cpu_line` of what it cost each process over `idle`."""
    before = cpu_now(stack_pid, data_dir)
    started = time.perf_counter()
    result = await work
    after = cpu_now(stack_pid, data_dir)
    line = cpu_line(plus_idle(before, idle, time.perf_counter() - started), after, per, what)
    return result, line


def cpu_line(before: dict[str, float], after: dict[str, float], per: int, what: str) -> str:
    parts = [
        f"{role} {(after.get(role, 0.0) - before.get(role, 0.0)) * 1000 / per:5.1f}"
        for role in ("api", "worker", "temporal", "pg", "bench")
        if role in after
    ]
    return f"CPU ms over idle per {what:<8} " + "  ".join(parts)


async def history_counts(
    client: Client,
    workflow_ids: Iterable[str],
    since: str | None = "WORKFLOW_EXECUTION_SIGNALED",
    *,
    after: datetime | None = None,
) -> Counter[str]:
    """Events of these workflows by type, from each one's first `since` event on (all of
    them with None). With `after`, the events of every run of each id from that instant on
    (a workflow that completes and starts again under its id, like a guided-action one)."""
    counts: Counter[str] = Counter()
    for workflow_id in workflow_ids:
        runs: list[str | None] = [None]
        if after is not None:
            query = f"WorkflowId = '{workflow_id}'"
            runs = [w.run_id async for w in client.list_workflows(query)]
        for run_id in runs:
            history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
            counting = since is None
            for event in history.events:
                name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
                if event.marker_recorded_event_attributes.marker_name == "core_patch":
                    name = "PATCH_MARKER"  # a patch's marker, not a local activity
                counting = counting or name == since
                if counting and (after is None or event.event_time.ToDatetime(UTC) >= after):
                    counts[name] += 1
    return counts


async def settle(client: Client, workflow_ids: Iterable[str], pause: float = 0.5) -> None:
    """Until these workflows exist and their histories stop growing: what their start owed
    is done."""
    handles = [client.get_workflow_handle(w) for w in workflow_ids]

    async def length(handle: WorkflowHandle[Any, Any]) -> int | None:
        try:
            return (await handle.describe()).history_length
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            return None  # not started yet: the outbox relay starts it

    last: list[int | None] = []
    while True:
        now = [await length(h) for h in handles]
        if now == last and None not in now:
            return
        last = now
        await asyncio.sleep(pause)


def guided_ids(leads: Iterable[dict[str, Any]]) -> list[str]:
    """The guided workflows of these leads (`GET /v1/leads` items) and of their contacts."""
    return [
        guided_workflow_id(kind, lead[field])
        for lead in leads
        for kind, field in ((ObjectKind.LEAD, "id"), (ObjectKind.CONTACT, "contact_id"))
    ]


async def quiet(
    api: httpx.AsyncClient, client: Client, guided: Iterable[str], pause: float = 0.2
) -> float:
    """Until the stack owes no Temporal call (every `leadpipe_outbox_messages` in the API's
    metrics at 0) and none of the `guided` workflows has a workflow task scheduled or running:
    the guided evaluations owed by what ran before are done. Returns the seconds it took.

    A benchmark that sets up its records and starts its load at once measures those records'
    evaluations, and the backlog of the run before, with it: 6 to 9 s of evaluations after
    each ingest run at peak rate (bench/README.md, 2026-12-04)."""
    handles = [client.get_workflow_handle(w) for w in guided]
    started = time.perf_counter()

    async def owed() -> float:
        exposition = (await api.get("/v1/metrics")).text
        return sum(
            s.value
            for family in text_string_to_metric_families(exposition)
            for s in family.samples
            if s.name == "leadpipe_outbox_messages"
        )

    async def busy(handle: WorkflowHandle[Any, Any]) -> bool:
        try:
            described = await handle.describe()
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            return False  # never started, and nothing owed starts it now
        return described.raw_description.HasField("pending_workflow_task")

    async def any_busy() -> bool:
        for handle in handles:
            if await busy(handle):
                return True
        return False

    while await owed() or await any_busy() or await owed():
        await asyncio.sleep(pause)
    return time.perf_counter() - started


SHOWN = (
    ("WORKFLOW_EXECUTION_SIGNALED", "signals"),
    ("WORKFLOW_TASK_COMPLETED", "workflow tasks"),
    ("ACTIVITY_TASK_COMPLETED", "activity tasks"),
    ("MARKER_RECORDED", "local activities"),
    ("UPSERT_WORKFLOW_SEARCH_ATTRIBUTES", "SA upserts"),
)


def history_line(
    counts: Counter[str], per: int, what: str, shown: tuple[tuple[str, str], ...] = SHOWN
) -> str:
    parts = [f"{label} {counts[name] / per:.2f}" for name, label in shown]
    total = sum(counts.values()) / per
    return f"Temporal per {what:<16} " + ", ".join(parts) + f"; history events {total:.1f}"


# A move's way through Temporal, each phase from the end of the one before: the API's post
# until its signal, the signal until the workflow task that schedules its stage activity
# starts (waiting for a worker slot, or behind the lead's earlier events), that task (the
# progression rules' local activity), the stage activity waiting for a slot, and the activity.
PHASES = ("api", "task wait", "task run", "activity wait", "activity run")


def _payload_event_id(payloads: Any) -> str | None:
    if not payloads:
        return None
    body = json.loads(payloads[0].data)
    return body.get("event_id") if isinstance(body, dict) else None


async def move_phases(
    client: Client, workflow_ids: Iterable[str], posted_at: dict[str, float]
) -> dict[str, list[float]]:
    """Milliseconds per phase (PHASES) of every event in `posted_at` (event_id -> wall-clock
    post time) that made its lead's workflow run a stage activity."""
    phases: dict[str, list[float]] = {name: [] for name in PHASES}
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        by_id = {e.event_id: e for e in history.events}
        signalled: dict[str, float] = {}
        moves: dict[int, str] = {}  # scheduled event id -> the event it moves on
        ends: dict[int, dict[int, float]] = {}  # scheduled event id -> event type -> time
        for e in history.events:
            at = e.event_time.ToDatetime(UTC).timestamp()
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
                event_id = _payload_event_id(
                    e.workflow_execution_signaled_event_attributes.input.payloads
                )
                if event_id is not None:
                    signalled.setdefault(event_id, at)
            elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                attributes = e.activity_task_scheduled_event_attributes
                event_id = _payload_event_id(attributes.input.payloads)
                if attributes.activity_type.name == "change_lead_stage" and event_id:
                    moves[e.event_id] = event_id
            elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                of = e.activity_task_started_event_attributes.scheduled_event_id
                ends.setdefault(of, {})[e.event_type] = at
            elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                of = e.activity_task_completed_event_attributes.scheduled_event_id
                ends.setdefault(of, {})[e.event_type] = at
        for scheduled_id, event_id in moves.items():
            if event_id not in posted_at or event_id not in signalled:
                continue
            scheduled = by_id[scheduled_id]
            completed = by_id[
                scheduled.activity_task_scheduled_event_attributes.workflow_task_completed_event_id
            ]
            started = by_id[completed.workflow_task_completed_event_attributes.started_event_id]
            activity = ends.get(scheduled_id, {})
            if len(activity) < 2:
                continue
            times = [
                posted_at[event_id],
                signalled[event_id],
                started.event_time.ToDatetime(UTC).timestamp(),
                completed.event_time.ToDatetime(UTC).timestamp(),
                activity[EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED],
                activity[EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED],
            ]
            for name, start, end in zip(PHASES, times, times[1:], strict=False):
                phases[name].append((end - start) * 1000)
    return phases
