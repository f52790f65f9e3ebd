"""Many open lead workflows on one worker: its memory, each lead's history, cache hits and misses.

    LEADPIPE_WORKER_CACHED_WORKFLOWS=1000 .venv/bin/python -m devstack run     # one terminal
    .venv/bin/python -m bench.leads_scale --leads 10000 --stack-pid <devstack pid>

Against a running stack whose worker (one process) keeps at most
`LEADPIPE_WORKER_CACHED_WORKFLOWS` lead workflows in memory. It
- opens `--leads` leads through `POST /v1/leads` (`--concurrency` at once), each starting its
  workflow, and waits until the worker has loaded every one (their `LeadOwner` search
  attribute, visible to `CountWorkflowExecutions`);
- prints the worker's resident memory (VmRSS, and its peak VmHWM) before and after, and per open
  workflow;
- prints the history of a sample of leads (events and bytes): what a replay reads;
- posts one `email_sent` (New -> Attempting) to `--sample` leads among the first opened (long
  evicted from the cache when it holds fewer than `--leads`) and to as many among the last
  opened (still cached), one at a time, and prints per group the post-to-stage-visible
  latency and the worker's CPU per event: the replay a cache miss costs.
"""

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.service import RPCError

from bench import breakdown
from bench.leads_load import pipeline_stages
from bench.percentiles import percentile
from bench.stack import admin_headers, stack_arguments


def worker_pid(stack_pid: int) -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                line = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat[1]) == stack_pid and b"worker.py" in line:
                return int(entry.name)
    raise SystemExit(f"no worker.py under process {stack_pid}")


def memory_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return tuple(int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))  # type: ignore[return-value]


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / breakdown.TICKS


def ok(response: httpx.Response) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.text}")
    return response.json()


async def open_leads(
    api: httpx.AsyncClient, count: int, concurrency: int, worker: int
) -> tuple[list[int], int, int]:
    """`count` leads of one new company and owner, in creation order
    -> (ids, owner id, pipeline id)."""
    rep = ok(
        await api.post(
            "/v1/users",
            json={
                "email": f"scale-{uuid.uuid4().hex[:8]}@example.com",
                "name": "Scale Rep",
                "role": "sales_user",
                "seat": "current",
            },
        )
    )
    company = ok(await api.post("/v1/companies", json={"name": f"Scale {uuid.uuid4().hex[:6]}"}))
    ids: list[int] = [0] * count
    pipeline: list[int] = []
    cursor = iter(range(count))
    done = 0
    started = time.perf_counter()

    async def one_at_a_time() -> None:
        nonlocal done
        for i in cursor:
            lead = ok(
                await api.post(
                    "/v1/leads", json={"company_id": company["id"], "owner_id": rep["id"]}
                )
            )
            ids[i] = lead["id"]
            pipeline[:] = [lead["pipeline_id"]]
            done += 1
            if done % 1000 == 0:
                rate = done / (time.perf_counter() - started)
                rss, _ = memory_mib(worker)
                print(
                    f"  {done} leads created ({rate:.0f}/s), worker RSS {rss:.0f} MiB", flush=True
                )

    await asyncio.gather(*(one_at_a_time() for _ in range(concurrency)))
    return ids, rep["id"], pipeline[0]


async def wait_until_loaded(client: Client, owner_id: int, count: int) -> float:
    """Seconds until `count` running lead workflows show this owner (each loaded its lead)."""
    started = time.perf_counter()
    query = f"LeadOwner = {owner_id} AND ExecutionStatus = 'Running'"
    while True:
        try:
            # The dev server counts in SQLite: slow with many workflows on a loaded machine.
            counted = await client.count_workflows(query, rpc_timeout=timedelta(seconds=60))
            if counted.count >= count:
                return time.perf_counter() - started
        except RPCError as err:
            print(f"  count of loaded leads: {err.message}; again", flush=True)
        await asyncio.sleep(1.0)


async def history_sizes(client: Client, lead_ids: list[int]) -> tuple[list[float], list[float]]:
    lengths: list[float] = []
    sizes: list[float] = []
    for lead_id in lead_ids:
        described = await client.get_workflow_handle(f"lead-{lead_id}").describe()
        lengths.append(described.history_length)
        sizes.append(described.raw_description.workflow_execution_info.history_size_bytes)
    return lengths, sizes


async def move_one_by_one(
    api: httpx.AsyncClient, lead_ids: list[int], attempting: int, worker: int
) -> tuple[list[float], float]:
    """Post email_sent to each lead in turn, waiting until it shows Attempting
    -> (post-to-visible latencies in ms, worker CPU ms per event)."""
    latencies = []
    cpu = process_cpu(worker)
    for lead_id in lead_ids:
        event_id = f"scale-{uuid.uuid4().hex}"
        sent = time.time()
        ok(
            await api.post(
                "/v1/activities",
                json={
                    "event_id": event_id,
                    "lead_id": lead_id,
                    "type": "email_sent",
                    "occurred_at": datetime.now(UTC).isoformat(),
                },
            )
        )
        while ok(await api.get(f"/v1/leads/{lead_id}"))["stage_id"] != attempting:
            await asyncio.sleep(0.01)
        history = ok(await api.get(f"/v1/leads/{lead_id}/history"))
        (change,) = [c for c in history if c["event_id"] == event_id]
        at = datetime.fromisoformat(change["at"]).timestamp()
        latencies.append(max(0.0, at - sent) * 1000)
    return latencies, (process_cpu(worker) - cpu) * 1000 / len(lead_ids)


def latency_line(name: str, values: list[float], cpu_ms: float) -> str:
    p50, p95 = (percentile(values, q) for q in (50, 95))
    return (
        f"{name:<34} post to visible p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
        f"worker CPU {cpu_ms:5.1f} ms/event  (n={len(values)})"
    )


async def main() -> None:
    parser = stack_arguments(__doc__, concurrency=16)
    parser.set_defaults(leads=10_000)
    parser.add_argument("--sample", type=int, default=100, help="leads moved per group")
    parser.add_argument("--stack-pid", type=int, required=True, help="the devstack process")
    parser.add_argument(
        "--existing",
        metavar="FIRST:LAST",
        help="measure the leads with these ids (opened by an earlier run) instead of opening",
    )
    args = parser.parse_args()
    worker = worker_pid(args.stack_pid)

    async with httpx.AsyncClient(
        base_url=args.api, headers=admin_headers(args.data_dir), timeout=60
    ) as api:
        ok(await api.get("/v1/readyz"))
        client = await Client.connect(args.temporal)
        rss0, _ = memory_mib(worker)
        print(f"worker pid {worker}, RSS before {rss0:.0f} MiB")
        if args.existing:
            first, last = (int(i) for i in args.existing.split(":"))
            lead_ids = list(range(first, last + 1))
            lead = ok(await api.get(f"/v1/leads/{first}"))
            owner, pipeline_id = lead["owner_id"], lead["pipeline_id"]
            args.leads = len(lead_ids)
        else:
            started = time.perf_counter()
            lead_ids, owner, pipeline_id = await open_leads(
                api, args.leads, args.concurrency, worker
            )
            created = time.perf_counter() - started
            lagging = await wait_until_loaded(client, owner, args.leads)
            total = created + lagging
            print(
                f"opened {args.leads} lead workflows in {total:.0f} s "
                f"({args.leads / total:.0f}/s; the last loaded {lagging:.0f} s after the last "
                "create)"
            )
        rss, hwm = memory_mib(worker)
        print(
            f"worker RSS with {args.leads} open  {rss:.0f} MiB (peak {hwm:.0f} MiB), "
            f"{(rss - rss0) * 1024 / args.leads:.1f} KiB per open lead over the start"
        )
        lengths, sizes = await history_sizes(client, random.sample(lead_ids, 20))
        print(
            f"history per open lead (20 sampled)  {percentile(lengths, 50):.0f} events, "
            f"{percentile(sizes, 50) / 1024:.1f} KiB"
        )

        stages = {s["label"]: s["id"] for s in await pipeline_stages(api, pipeline_id)}
        attempting = stages["Attempting"]
        n = min(args.sample, args.leads // 4)
        cold = random.sample(lead_ids[: args.leads // 4], n)
        hot = random.sample(lead_ids[-(n * 2) :], n)
        cold_latency, cold_cpu = await move_one_by_one(api, cold, attempting, worker)
        hot_latency, hot_cpu = await move_one_by_one(api, hot, attempting, worker)
        print(latency_line("first opened (evicted: replayed)", cold_latency, cold_cpu))
        print(latency_line("last opened (cached)", hot_latency, hot_cpu))
        rss, hwm = memory_mib(worker)
        print(f"worker RSS at the end  {rss:.0f} MiB (peak {hwm:.0f} MiB)")


if __name__ == "__main__":
    asyncio.run(main())
