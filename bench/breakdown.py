"""Where a benchmark's work goes: CPU per process of a running stack, Temporal work per event.

CPU: `/proc/<pid>/stat` user + system time of each of the stack's processes (and their
children, e.g. PostgreSQL's backends), read before and after a run; steadier than throughput on
a shared machine. The processes are the children of `python -m devstack run` (`--stack-pid`),
named by their command line. bench/ingest.py takes off what each burns idle (polls, the
outbox relay, timers) over as long, measured for 5 s before the run.

Temporal work: the lead workflows' histories, counted by event type from their first signal
on, so what the lead's creation cost is left out. Each workflow task is a poll and a completion
by the worker, each activity task another two calls, each signal one call by the API; markers
are local activities (no call of their own), upserts a visibility write on the server.
"""

import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

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


def cpu_line(before: dict[str, float], after: dict[str, float], per: int, what: str) -> str:
    parts = [
        f"{role} {(after.get(role, 0.0) - before.get(role, 0.0)) * 1000 / per:5.1f}"
        for role in ("api", "worker", "temporal", "pg", "bench")
        if role in after
    ]
    return f"CPU ms over idle per {what:<8} " + "  ".join(parts)


async def history_counts(client: Client, workflow_ids: Iterable[str]) -> Counter[str]:
    """Events of these workflows by type, from each one's first signal on."""
    counts: Counter[str] = Counter()
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        signalled = False
        for event in history.events:
            name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
            signalled = signalled or name == "WORKFLOW_EXECUTION_SIGNALED"
            if signalled:
                counts[name] += 1
    return counts


SHOWN = (
    ("WORKFLOW_EXECUTION_SIGNALED", "signals"),
    ("WORKFLOW_TASK_COMPLETED", "workflow tasks"),
    ("ACTIVITY_TASK_COMPLETED", "activity tasks"),
    ("MARKER_RECORDED", "local activities"),
    ("UPSERT_WORKFLOW_SEARCH_ATTRIBUTES", "SA upserts"),
)


def history_line(counts: Counter[str], per: int, what: str) -> str:
    parts = [f"{label} {counts[name] / per:.2f}" for name, label in SHOWN]
    total = sum(counts.values()) / per
    return f"Temporal per {what:<16} " + ", ".join(parts) + f"; history events {total:.1f}"
