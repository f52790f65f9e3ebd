"""Stage action chains, end to end, against a running stack (`make run`), with their raw ceiling.

    .venv/bin/python -m bench.chains --leads 50

Creates a new lead pipeline (the default one is left alone) whose second stage has a 5-step
chain (create_task, set_property, notify_owner, send_email, create_task), N leads with an owner
and a contact with an email address in its first stage, then moves them all into the chain's
stage through the API. It prints
- chain steps/s end to end: first move until every lead's run shows `completed` in
  `GET /v1/leads/{id}/chains` (awaited through Temporal, then read once through the API);
- run duration (p50/p95/p99) as the runs record it (started_at to ended_at);
- the raw ceiling: as many minimal workflows as leads, each running as many no-op activities
  in sequence as the chain has steps, on the same Temporal server (worker in this process),
  measured right before and right after the stack run and averaged, and the ratio between
  end to end and ceiling;
- where the work goes (bench/breakdown.py): with `--stack-pid` (the `python -m devstack run`
  process), CPU ms per chain step of each process over its idle burn, from the first move to
  the last run's end; and the Temporal work of a sample of runs: each chain run's history
  events by type, and its lead workflow's share (the move that started it, from its update
  on), next to one ceiling workflow's.

Each measurement starts on a quiet stack (bench/breakdown.py `quiet`): the guided evaluations
owed by the leads it set up, and by the runs before, done; `--no-quiet` does not wait.

`--rounds N` repeats all of it N times and adds the medians; see bench/README.md.
"""

import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.worker import Worker

from bench import breakdown
from bench.chain_ceiling import NoopSteps, noop_step
from bench.percentiles import percentile
from bench.stack import admin_headers, new_rep, stack_arguments
from domain.guided import ObjectKind
from domain.guided_evaluation import guided_workflow_id

CHAIN: list[dict[str, Any]] = [
    {"type": "create_task", "config": {"title": "Call {{contact.first_name}}", "due_in": "P1D"}},
    {"type": "set_property", "config": {"property": "lead.label", "value": "hot"}},
    {"type": "notify_owner", "config": {"message": "{{contact.first_name}} entered the chain"}},
    {
        "type": "send_email",
        "config": {"subject": "Hello {{contact.first_name}}", "body": "Hi {{contact.first_name}}"},
    },
    {"type": "create_task", "config": {"title": "Follow up", "due_in": "P3D"}},
]
STEPS = len(CHAIN)


def ok(response: httpx.Response) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.text}")
    return response.json()


async def setup(
    api: httpx.AsyncClient, count: int, concurrency: int
) -> tuple[list[dict[str, Any]], int]:
    """A pipeline with the chain on its second stage and `count` leads in its first stage
    -> (the leads, the chain's stage id)."""
    pipeline = ok(
        await api.post(
            "/v1/pipelines",
            json={
                "object": "lead",
                "label": f"Chain bench {uuid.uuid4().hex[:8]}",
                "stages": [
                    {"label": "New", "kind": "open"},
                    {"label": "Chained", "kind": "open"},
                    {"label": "Won", "kind": "qualified"},
                    {"label": "Lost", "kind": "disqualified"},
                ],
            },
        )
    )
    new, chained = (s["id"] for s in pipeline["stages"][:2])
    ok(
        await api.put(
            f"/v1/pipelines/{pipeline['id']}/stages/{chained}/chain", json={"actions": CHAIN}
        )
    )
    rep = await new_rep(api)
    sem = asyncio.Semaphore(concurrency)

    async def make_lead(i: int) -> dict[str, Any]:
        async with sem:
            contact = ok(
                await api.post(
                    "/v1/contacts",
                    json={
                        "first_name": f"Bench{i}",
                        "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
                        "owner_id": rep["id"],
                    },
                )
            )
            lead: dict[str, Any] = ok(
                await api.post(
                    "/v1/leads",
                    json={
                        "contact_id": contact["id"],
                        "owner_id": rep["id"],
                        "pipeline_id": pipeline["id"],
                        "stage_id": new,
                    },
                )
            )
            return lead

    return list(await asyncio.gather(*(make_lead(i) for i in range(count)))), chained


@dataclass(frozen=True)
class StackRun:
    rate: float  # chain steps/s end to end
    durations: list[float]  # ms, as the runs record them
    runs: dict[int, str]  # lead id -> its chain run's workflow id
    task_ids: dict[int, int]  # task id -> lead id, of the tasks the runs made
    contact_ids: dict[int, int]  # lead id -> its contact's id
    moved_at: datetime  # when the first move was sent
    cpu: str  # CPU per step by process, over idle


async def measure_stack(
    api: httpx.AsyncClient,
    client: Client,
    leads_n: int,
    concurrency: int,
    stack_pid: int | None,
    data_dir: Path,
    before_load: Callable[[list[str]], Awaitable[None]],
) -> StackRun:
    idle = await breakdown.idle_cpu(stack_pid, data_dir)
    leads, stage_id = await setup(api, leads_n, concurrency)
    lead_ids = [lead["id"] for lead in leads]
    # The leads' own starts are not the chains' work.
    await breakdown.settle(client, (f"lead-{i}" for i in lead_ids))
    await before_load(breakdown.guided_ids(leads))
    sem = asyncio.Semaphore(concurrency)

    async def move(lead_id: int) -> None:
        async with sem:
            ok(await api.post(f"/v1/leads/{lead_id}/stage", json={"stage_id": stage_id}))

    async def run_of(lead_id: int) -> dict[str, Any]:
        async with sem:
            runs: list[dict[str, Any]] = ok(await api.get(f"/v1/leads/{lead_id}/chains"))["items"]
        if not runs or runs[0]["status"] != "completed":
            raise RuntimeError(f"lead {lead_id}: chain run not completed: {runs}")
        return runs[0]

    cpu_before = breakdown.cpu_now(stack_pid, data_dir)
    moved_at = datetime.now(UTC)
    started = time.perf_counter()
    await asyncio.gather(*(move(lead_id) for lead_id in lead_ids))
    # Waiting through Temporal (long polls), not by polling the API: a poll every 50 ms of
    # each pending lead took the API 24 ms of CPU per step, a third of the machine.
    await wait_for_runs(client, lead_ids, moved_at)
    finished = dict(zip(lead_ids, await asyncio.gather(*map(run_of, lead_ids)), strict=True))
    elapsed = time.perf_counter() - started
    cpu_after = breakdown.cpu_now(stack_pid, data_dir)
    cpu_before = breakdown.plus_idle(cpu_before, idle, elapsed)
    durations = [
        (
            datetime.fromisoformat(r["ended_at"]) - datetime.fromisoformat(r["started_at"])
        ).total_seconds()
        * 1000
        for r in finished.values()
    ]
    steps = STEPS * len(lead_ids)
    return StackRun(
        steps / elapsed,
        durations,
        {lead_id: run["workflow_id"] for lead_id, run in finished.items()},
        {
            step["result"]["task_id"]: lead_id
            for lead_id, run in finished.items()
            for step in run["steps"]
            if "task_id" in (step["result"] or {})
        },
        {lead["id"]: lead["contact_id"] for lead in leads},
        moved_at,
        breakdown.cpu_line(cpu_before, cpu_after, steps, "step"),
    )


async def wait_for_runs(client: Client, lead_ids: list[int], since: datetime) -> None:
    """Until every lead's chain run (`chain-<lead id>-...`, started after `since`) has ended:
    the runs are found through visibility, then their results awaited. A run records its end
    in the database before its workflow completes."""
    pending = set(lead_ids)
    waits: list[asyncio.Task[Any]] = []
    query = f"WorkflowType = 'StageChainWorkflow' AND StartTime >= '{since.isoformat()}'"
    while pending:
        async for run in client.list_workflows(query):
            lead_id = int(run.id.split("-")[1])
            if lead_id in pending:
                pending.discard(lead_id)
                waits.append(asyncio.create_task(client.get_workflow_handle(run.id).result()))
        if pending:
            await asyncio.sleep(0.25)
    await asyncio.gather(*waits)


# Runs whose histories are read: they are alike, and each is a few round trips.
SAMPLE = 5
# What a chain run and the move that starts it cost Temporal, by event type.
SHOWN = (
    ("WORKFLOW_TASK_COMPLETED", "workflow tasks"),
    ("ACTIVITY_TASK_COMPLETED", "activity tasks"),
    ("MARKER_RECORDED", "local activities"),
    ("PATCH_MARKER", "patch markers"),
    ("WORKFLOW_EXECUTION_UPDATE_ACCEPTED", "updates"),
    ("START_CHILD_WORKFLOW_EXECUTION_INITIATED", "child starts"),
    ("WORKFLOW_EXECUTION_SIGNALED", "signals"),
    ("UPSERT_WORKFLOW_SEARCH_ATTRIBUTES", "SA upserts"),
)


async def temporal_lines(client: Client, stack: StackRun, ceiling_id: str) -> list[str]:
    """History events per run of a sample of chain runs; of their lead workflows and of the
    guided-action workflows of their leads, contacts and tasks, from the first move on; of one
    ceiling workflow."""
    sample = dict(sorted(stack.runs.items())[:SAMPLE])
    chain = await breakdown.history_counts(client, sample.values(), since=None)
    leads = await breakdown.history_counts(
        client, (f"lead-{i}" for i in sample), since=None, after=stack.moved_at
    )
    guided_ids = [
        *(guided_workflow_id(ObjectKind.LEAD, i) for i in sample),
        *(guided_workflow_id(ObjectKind.CONTACT, stack.contact_ids[i]) for i in sample),
        *(guided_workflow_id(ObjectKind.TASK, t) for t, i in stack.task_ids.items() if i in sample),
    ]
    guided = await breakdown.history_counts(client, guided_ids, since=None, after=stack.moved_at)
    ceiling = await breakdown.history_counts(client, [ceiling_id], since=None)
    n = len(sample)
    return [
        breakdown.history_line(chain, n, "chain run", SHOWN),
        breakdown.history_line(leads, n, "run: lead", SHOWN),
        breakdown.history_line(guided, n, "run: guided", SHOWN),
        breakdown.history_line(ceiling, 1, "ceiling run", SHOWN),
    ]


async def measure_ceiling(client: Client, workflows: int, concurrency: int) -> tuple[float, str]:
    """Activities/s of `workflows` minimal workflows each running STEPS no-op activities in
    sequence, and one's id; the clock runs from the first start until every workflow has
    finished."""
    queue = f"bench-chain-ceiling-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[NoopSteps], activities=[noop_step]):
        sem = asyncio.Semaphore(concurrency)

        async def one() -> str:
            async with sem:
                handle = await client.start_workflow(
                    NoopSteps.run, STEPS, id=f"bench-steps-{uuid.uuid4().hex}", task_queue=queue
                )
            await handle.result()
            return handle.id

        started = time.perf_counter()
        ids = await asyncio.gather(*(one() for _ in range(workflows)))
        return STEPS * workflows / (time.perf_counter() - started), ids[0]


@dataclass(frozen=True)
class Round:
    ceiling: float
    stack: float
    p50: float
    p95: float
    p99: float

    @property
    def ratio(self) -> float:
        return self.stack / self.ceiling

    @staticmethod
    def of(ceiling: float, stack: float, durations: list[float]) -> "Round":
        p50, p95, p99 = (percentile(durations, q) for q in (50, 95, 99))
        return Round(ceiling, stack, p50, p95, p99)

    @staticmethod
    def median(rounds: list["Round"]) -> "Round":
        return Round(
            statistics.median(r.ceiling for r in rounds),
            statistics.median(r.stack for r in rounds),
            statistics.median(r.p50 for r in rounds),
            statistics.median(r.p95 for r in rounds),
            statistics.median(r.p99 for r in rounds),
        )


def print_round(r: Round) -> None:
    print(f"raw ceiling (steps/s)         {r.ceiling:8.1f}")
    print(f"end to end (chain steps/s)    {r.stack:8.1f}")
    print(f"ratio end-to-end / ceiling    {r.ratio:8.2f}")
    print(
        f"chain run duration            p50 {r.p50:7.1f} ms  p95 {r.p95:7.1f} ms  "
        f"p99 {r.p99:7.1f} ms"
    )


async def main() -> None:
    parser = stack_arguments(__doc__, concurrency=32)
    parser.add_argument(
        "--stack-pid", type=int, help="the devstack process: CPU per step of its children"
    )
    parser.add_argument(
        "--no-quiet",
        dest="quiet",
        action="store_false",
        help="start each measurement right after the one before, evaluations still owed",
    )
    args = parser.parse_args()

    headers = admin_headers(args.data_dir)
    rounds: list[Round] = []
    # Moves wait for the lead workflow, whose activities queue behind the chains' effects on a
    # loaded machine: give them longer than the usual 30 s.
    async with httpx.AsyncClient(base_url=args.api, headers=headers, timeout=120) as api:
        ok(await api.get("/v1/readyz"))
        client = await Client.connect(args.temporal)
        guided: list[str] = []  # the guided workflows of the records of the round so far
        waits: list[float] = []

        async def quiet(records: list[str]) -> None:
            guided.extend(records)
            if args.quiet:
                waits.append(await breakdown.quiet(api, client, guided))

        print(
            f"chain steps per run           {STEPS}, {args.leads} leads, {args.concurrency} at once"
        )
        for number in range(1, args.rounds + 1):
            # The ceiling right before and right after the stack run, averaged: on a shared
            # machine the load drifts, and the ratio should compare like with like.
            await quiet([])
            guided.clear()
            idle = await breakdown.idle_cpu(args.stack_pid, args.data_dir)
            # What the ceiling costs the server and this process (its worker and client).
            (before, ceiling_id), ceiling_cpu_line = await breakdown.with_cpu_line(
                measure_ceiling(client, args.leads, args.concurrency),
                args.stack_pid,
                args.data_dir,
                idle,
                STEPS * args.leads,
                "step (ceiling)",
            )
            stack = await measure_stack(
                api, client, args.leads, args.concurrency, args.stack_pid, args.data_dir, quiet
            )
            # The records the chains made (their tasks) are evaluated too.
            await quiet([guided_workflow_id(ObjectKind.TASK, t) for t in stack.task_ids])
            after, _ = await measure_ceiling(client, args.leads, args.concurrency)
            rounds.append(Round.of((before + after) / 2, stack.rate, stack.durations))
            if args.rounds > 1:
                print(f"-- round {number} of {args.rounds}")
            print_round(rounds[-1])
            if waits:
                print(f"waited for a quiet stack (s)  {', '.join(f'{w:.1f}' for w in waits)}")
                waits.clear()
            print(stack.cpu)
            print(ceiling_cpu_line)
            for line in await temporal_lines(client, stack, ceiling_id):
                print(line)
    if args.rounds > 1:
        ratios = sorted(r.ratio for r in rounds)
        print(f"-- median of {args.rounds} rounds (ratios {ratios[0]:.2f} to {ratios[-1]:.2f})")
        print_round(Round.median(rounds))


if __name__ == "__main__":
    asyncio.run(main())
