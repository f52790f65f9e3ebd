"""Activity ingestion, end to end, against a running stack (`make run`), with its raw ceiling.

    .venv/bin/python -m bench.ingest --leads 50 --activities 1000

Posts N activities for M leads through the API: per lead one `email_sent` (New -> Attempting),
notes, and finally one `email_reply` (Attempting -> Connected). It prints
- activities/s end to end: first post until every lead shows Connected through the API;
- post-to-stage-visible latency (p50/p95/p99): post time to the moment the move is in the
  lead's history, for the moving activities, at full speed and again at half the peak rate,
  twice: with every lead moving in the same rounds, and with the moves spread over the run;
  and, for the half-peak runs and one move on the idle stack, each move's phases through
  Temporal (bench/breakdown.py `move_phases`);
- the raw ceiling: the same number of signals sent straight from a client to a minimal
  workflow on the same Temporal server (as many workflows as leads, as many signals each as
  activities per lead, as many in flight), measured right before and right after the peak
  run and averaged, and the ratio between end to end and ceiling;
- batch ingestion: the same activities on fresh leads through `POST /activities:batch`
  (`--batch-size` items a call, each lead's activities in one call, `--batch-concurrency`
  calls in flight), first post until every lead shows Connected, and its ratio to the ceiling;
- the Temporal work per activity (bench/breakdown.py): the peak run's lead histories by event
  type, and a probe lead's for one moving activity and one note; with `--stack-pid` (the
  `python -m devstack run` process), CPU ms per activity of each process during the peak run,
  and per item during the batch run's calls.

Each measurement starts on a quiet stack (bench/breakdown.py `quiet`): the guided evaluations
owed by the records it set up and by the run before it done. `--no-quiet` starts each one
right after the one before, as the figures before 2026-12-04 were taken.

`--rounds N` repeats all of it N times and adds the medians; see bench/README.md.
"""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.worker import Worker

from bench import breakdown
from bench.ceiling import SignalSink
from bench.ingest_rounds import Latency, Round, print_round
from bench.leads_load import (
    Run,
    activities_per_lead,
    pipeline_stages,
    plan_activities,
    post_all,
    setup_leads,
    visible_latencies,
    wait_until_connected,
)
from bench.percentiles import percentile
from bench.stack import admin_headers, stack_arguments

# Called with the leads a run has set up, before its load starts.
BeforeLoad = Callable[[list[dict[str, Any]]], Awaitable[None]]


@dataclass(frozen=True)
class StackRun:
    rate: float  # activities/s
    latencies: list[float]
    count: int
    lead_ids: list[int]
    posted_at: dict[str, float]
    # The stack's CPU seconds by process over the load, from the first post until every lead
    # moved, and how long that took.
    cpu_before: dict[str, float]
    cpu_after: dict[str, float]
    seconds: float


async def measure_stack(
    api: httpx.AsyncClient,
    leads_n: int,
    total: int,
    concurrency: int,
    rate: float | None,
    cpu: Callable[[], dict[str, float]],
    before_load: BeforeLoad,
    *,
    spread: bool = False,
) -> StackRun:
    leads = await setup_leads(api, leads_n)
    await before_load(leads)
    stages = {s["label"]: s["id"] for s in await pipeline_stages(api, leads[0]["pipeline_id"])}
    plans = plan_activities(leads, total, spread=spread)
    count = sum(len(p) for p in plans)
    cpu_before = cpu()
    started = time.perf_counter()
    run = await post_all(api, plans, concurrency, rate)
    await wait_until_connected(api, leads, stages["Connected"], run)
    cpu_after = cpu()
    seconds = time.perf_counter() - started
    latencies = await visible_latencies(api, leads, run)
    return StackRun(
        count / (run.finished - run.started),
        latencies,
        count,
        [lead["id"] for lead in leads],
        run.posted_at,
        cpu_before,
        cpu_after,
        seconds,
    )


@dataclass(frozen=True)
class BatchRun:
    rate: float  # activities/s
    count: int
    # The stack's CPU seconds by process, from the first call until the last one answered:
    # the API's work per item, without the polls that wait for the leads' moves.
    cpu_before: dict[str, float]
    cpu_after: dict[str, float]
    calls_seconds: float


async def measure_batches(
    api: httpx.AsyncClient,
    leads_n: int,
    total: int,
    batch_size: int,
    concurrency: int,
    cpu: Callable[[], dict[str, float]],
    before_load: BeforeLoad,
) -> BatchRun:
    """Activities/s through `POST /activities:batch`: each lead's activities in one call (so
    in order), whole leads per call up to `batch_size` items, `concurrency` calls in flight.
    `cpu` samples the stack's CPU around the calls."""
    leads = await setup_leads(api, leads_n)
    await before_load(leads)
    stages = {s["label"]: s["id"] for s in await pipeline_stages(api, leads[0]["pipeline_id"])}
    plans = plan_activities(leads, total)
    if len(plans[0]) > batch_size:
        raise SystemExit(f"--batch-size must hold one lead's {len(plans[0])} activities")
    batches: list[list[dict[str, Any]]] = [[]]
    for plan in plans:
        if len(batches[-1]) + len(plan) > batch_size:
            batches.append([])
        batches[-1].extend(plan)
    sem = asyncio.Semaphore(concurrency)
    run = Run()

    async def post(items: list[dict[str, Any]]) -> None:
        async with sem:
            response = await api.post("/v1/activities:batch", json={"activities": items})
            response.raise_for_status()
            refused = [r for r in response.json()["results"] if r["status"] != 202]
            if refused:
                raise RuntimeError(f"batch items refused: {refused[:3]}")

    cpu_before = cpu()
    run.started = time.perf_counter()
    await asyncio.gather(*(post(b) for b in batches))
    cpu_after = cpu()
    answered = time.perf_counter() - run.started
    await wait_until_connected(api, leads, stages["Connected"], run)
    count = sum(len(p) for p in plans)
    return BatchRun(count / (run.finished - run.started), count, cpu_before, cpu_after, answered)


async def probe_breakdown(api: httpx.AsyncClient, client: Client) -> None:
    """The Temporal work of one moving activity (New -> Attempting) and of one note, on a
    fresh lead, each counted once the lead's workflow has settled."""
    (lead,) = await setup_leads(api, 1)
    stages = {s["label"]: s["id"] for s in await pipeline_stages(api, lead["pipeline_id"])}
    workflow_id = f"lead-{lead['id']}"
    now = datetime.now(UTC).isoformat()
    run = Run()

    async def post(type_: str) -> None:
        item = {"event_id": f"bench-{uuid.uuid4().hex}", "lead_id": lead["id"], "type": type_}
        run.posted_at[item["event_id"]] = time.time()
        (await api.post("/v1/activities", json={**item, "occurred_at": now})).raise_for_status()

    async def settled() -> Any:
        # The count holds still once the workflow task that answered the event completed.
        last: Any = None
        while True:
            counts = await breakdown.history_counts(client, [workflow_id])
            if counts == last:
                return counts
            last = counts
            await asyncio.sleep(0.5)

    await breakdown.settle(client, [workflow_id])  # the lead's start: its events not counted
    await post("email_sent")
    await wait_until_connected(api, [lead], stages["Attempting"], run)
    moved = await settled()
    print(await phases_line(client, [lead["id"]], run.posted_at, "idle"))
    await post("note")
    await asyncio.sleep(0.5)
    noted = await settled()
    print(breakdown.history_line(moved, 1, "moving activity"))
    print(breakdown.history_line(noted - moved, 1, "note"))


async def phases_line(
    client: Client, lead_ids: list[int], posted_at: dict[str, float], what: str
) -> str:
    """The moves' phases through Temporal (bench/breakdown.py `move_phases`), p50/p99 ms."""
    phases = await breakdown.move_phases(client, (f"lead-{i}" for i in lead_ids), posted_at)
    parts = [
        f"{name} {percentile(v, 50):.0f}/{percentile(v, 99):.0f}" for name, v in phases.items()
    ]
    return f"moves at {what}, ms p50/p99: " + ", ".join(parts)


async def measure_ceiling(client: Client, workflows: int, total: int, concurrency: int) -> float:
    """Signals/s to a minimal workflow, shaped like the stack run it is compared with.

    The same number of workflows (one per lead) and of signals per workflow (one per
    activity), each workflow's signals sent in order, with the same number in flight; the
    clock runs from the first signal until every workflow has counted all of its own.
    """
    queue = f"bench-ceiling-{uuid.uuid4().hex[:8]}"
    per = activities_per_lead(workflows, total)
    async with Worker(client, task_queue=queue, workflows=[SignalSink]):
        handles = [
            await client.start_workflow(
                SignalSink.run, per, id=f"bench-sink-{uuid.uuid4().hex}", task_queue=queue
            )
            for _ in range(workflows)
        ]
        sem = asyncio.Semaphore(concurrency)

        async def feed(handle: Any) -> None:
            for i in range(per):
                async with sem:
                    await handle.signal(SignalSink.event, f"e{i}")

        started = time.perf_counter()
        await asyncio.gather(*(feed(h) for h in handles))
        await asyncio.gather(*(h.result() for h in handles))
        return per * workflows / (time.perf_counter() - started)


async def main() -> None:
    parser = stack_arguments(__doc__, concurrency=32)
    parser.add_argument("--activities", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--batch-concurrency", type=int, default=4)
    parser.add_argument(
        "--stack-pid", type=int, help="the devstack process: CPU per activity of its children"
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
    async with httpx.AsyncClient(base_url=args.api, headers=headers, timeout=30) as api:
        (await api.get("/v1/readyz")).raise_for_status()
        client = await Client.connect(args.temporal)
        guided: list[str] = []  # the guided workflows of the records set up so far
        waits: list[float] = []

        async def quiet(leads: list[dict[str, Any]]) -> None:
            guided.extend(breakdown.guided_ids(leads))
            if args.quiet:
                waits.append(await breakdown.quiet(api, client, guided))

        def cpu() -> dict[str, float]:
            return breakdown.cpu_now(args.stack_pid, args.data_dir)

        for number in range(1, args.rounds + 1):
            # The ceiling right before and right after the peak run, averaged: on a shared
            # machine the load drifts, and the ratio should compare like with like.
            await quiet([])
            guided.clear()  # the runs before are done with; this round's records follow
            idle = await breakdown.idle_cpu(args.stack_pid, args.data_dir)
            # What the ceiling costs the server and this process (its worker and client).
            before, ceiling_cpu_line = await breakdown.with_cpu_line(
                measure_ceiling(client, args.leads, args.activities, args.concurrency),
                args.stack_pid,
                args.data_dir,
                idle,
                args.activities,
                "signal (ceiling)",
            )
            load = args.leads, args.activities, args.concurrency
            peak = await measure_stack(api, *load, None, cpu, quiet)
            await quiet([])
            after = await measure_ceiling(client, args.leads, args.activities, args.concurrency)
            ceiling = (before + after) / 2
            half = await measure_stack(api, *load, peak.rate / 2, cpu, quiet)
            spread = await measure_stack(api, *load, peak.rate / 2, cpu, quiet, spread=True)
            batch = await measure_batches(
                api,
                args.leads,
                args.activities,
                args.batch_size,
                args.batch_concurrency,
                cpu,
                quiet,
            )
            cpu_before = breakdown.plus_idle(peak.cpu_before, idle, peak.seconds)
            cpu_after = peak.cpu_after
            batch_cpu_before = breakdown.plus_idle(batch.cpu_before, idle, batch.calls_seconds)
            rounds.append(
                Round(
                    ceiling,
                    peak.rate,
                    Latency.of(peak.latencies),
                    Latency.of(half.latencies),
                    Latency.of(spread.latencies),
                    batch.rate,
                )
            )
            if number == 1:
                print(
                    f"activities per run            {peak.count}, {args.leads} leads, "
                    f"{args.concurrency} at once; batches of {args.batch_size}, "
                    f"{args.batch_concurrency} at once"
                )
            if args.rounds > 1:
                print(f"-- round {number} of {args.rounds}")
            print_round(rounds[-1])
            if waits:
                print(f"waited for a quiet stack (s)  {', '.join(f'{w:.1f}' for w in waits)}")
                waits.clear()
            print(breakdown.cpu_line(cpu_before, cpu_after, peak.count, "activity (peak)"))
            print(ceiling_cpu_line)
            print(f"batch calls answered in       {batch.calls_seconds:8.2f} s")
            print(breakdown.cpu_line(batch_cpu_before, batch.cpu_after, batch.count, "batch item"))
            for name, run in (("in step", half), ("spread", spread)):
                print(await phases_line(client, run.lead_ids, run.posted_at, f"half peak, {name}"))
            counts = await breakdown.history_counts(client, (f"lead-{i}" for i in peak.lead_ids))
            print(breakdown.history_line(counts, peak.count, "activity (peak)"))
        await quiet([])
        await probe_breakdown(api, client)
    if args.rounds > 1:
        ratios = sorted(r.ratio for r in rounds)
        batch_ratios = sorted(r.batch_ratio for r in rounds)
        p99s = sorted(r.at_half_peak.p99 for r in rounds)
        spread_p99s = sorted(r.at_half_peak_spread.p99 for r in rounds)
        print(
            f"-- median of {args.rounds} rounds (ratios {ratios[0]:.2f} to {ratios[-1]:.2f}, "
            f"batch {batch_ratios[0]:.2f} to {batch_ratios[-1]:.2f}, "
            f"half-peak p99 {p99s[0]:.0f} to {p99s[-1]:.0f} ms, "
            f"spread {spread_p99s[0]:.0f} to {spread_p99s[-1]:.0f} ms)"
        )
        print_round(Round.median(rounds))


if __name__ == "__main__":
    asyncio.run(main())
