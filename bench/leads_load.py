"""Leads and activities for the ingestion benchmark: the leads it sets up, the order it posts
their activities in, the posting itself, and what the posts made visible through the API."""

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.stack import new_rep


@dataclass
class Run:
    posted_at: dict[str, float] = field(default_factory=dict)  # event_id -> wall clock
    started: float = 0.0
    finished: float = 0.0


async def setup_leads(api: httpx.AsyncClient, count: int) -> list[dict[str, Any]]:
    rep = await new_rep(api)
    leads = []
    for i in range(count):
        contact = (
            await api.post(
                "/v1/contacts",
                json={"first_name": "Bench", "last_name": str(i), "owner_id": rep["id"]},
            )
        ).json()
        lead = await api.post(
            "/v1/leads", json={"contact_id": contact["id"], "owner_id": rep["id"]}
        )
        lead.raise_for_status()
        leads.append(lead.json())
    return leads


def activities_per_lead(leads: int, total: int) -> int:
    """How many activities each lead gets (at least its email_sent and email_reply)."""
    return max(2, total // leads)


def plan_activities(
    leads: list[dict[str, Any]], total: int, *, spread: bool = False
) -> list[list[dict[str, Any]]]:
    """Per lead, in order: email_sent, notes, email_reply. Lists are posted lead-interleaved,
    one post per lead a round, so every lead moves in the first round and again in the last.

    With `spread`, the moves are spread over the rounds instead: lead i sends its email in
    round i * (per lead / 2) / leads and its reply half a lead's length later, notes around
    them, so each round carries the same number of moves.
    """
    per_lead = activities_per_lead(len(leads), total)
    plans = []
    for i, lead in enumerate(leads):
        now = datetime.now(UTC).isoformat()
        sent_at = i * (per_lead // 2) // len(leads) if spread else 0
        replied_at = sent_at + per_lead // 2 if spread else per_lead - 1
        items = [{"type": "note"}] * per_lead
        items[sent_at] = {"type": "email_sent"}
        items[replied_at] = {"type": "email_reply"}
        plans.append(
            [
                {
                    "event_id": f"bench-{uuid.uuid4().hex}",
                    "lead_id": lead["id"],
                    "occurred_at": now,
                    **item,
                }
                for item in items
            ]
        )
    return plans


async def post_all(
    api: httpx.AsyncClient, plans: list[list[dict[str, Any]]], concurrency: int, rate: float | None
) -> Run:
    """Post each lead's activities in order; leads in parallel up to `concurrency`."""
    run = Run()
    sem = asyncio.Semaphore(concurrency)
    interval = 1.0 / rate if rate else 0.0
    next_slot = [time.perf_counter()]

    async def pace() -> None:
        if not interval:
            return
        slot = next_slot[0] = max(next_slot[0] + interval, time.perf_counter())
        await asyncio.sleep(max(0.0, slot - time.perf_counter()))

    async def post_lead(items: list[dict[str, Any]]) -> None:
        for item in items:
            async with sem:
                await pace()
                run.posted_at[item["event_id"]] = time.time()
                response = await api.post("/v1/activities", json=item)
                response.raise_for_status()

    run.started = time.perf_counter()
    await asyncio.gather(*(post_lead(p) for p in plans))
    return run


async def wait_until_connected(
    api: httpx.AsyncClient, leads: list[dict[str, Any]], connected_stage: int, run: Run
) -> None:
    """Until every lead shows the stage through the API. One list call a pass (the run's
    leads share an owner of their own, `setup_leads`): a GET per lead every 50 ms would
    load the API with the benchmark's own polling while the moves it waits for run."""
    pending = {lead["id"] for lead in leads}
    (owner_id,) = {lead["owner_id"] for lead in leads}
    query = {"owner_id": owner_id, "stage_id": connected_stage, "limit": 500}
    while pending := pending - await listed_ids(api, query):
        await asyncio.sleep(0.05)
    run.finished = time.perf_counter()


async def listed_ids(api: httpx.AsyncClient, query: dict[str, Any]) -> set[int]:
    """The ids of every lead `GET /v1/leads` lists for the query, all pages."""
    ids: set[int] = set()
    params = query
    while True:
        page = (await api.get("/v1/leads", params=params)).json()
        ids |= {lead["id"] for lead in page["items"]}
        if not page.get("next_cursor"):
            return ids
        params = {**query, "cursor": page["next_cursor"]}


async def visible_latencies(
    api: httpx.AsyncClient, leads: list[dict[str, Any]], run: Run
) -> list[float]:
    latencies = []
    for lead in leads:
        for change in (await api.get(f"/v1/leads/{lead['id']}/history")).json():
            if change["event_id"] in run.posted_at:
                at = datetime.fromisoformat(change["at"]).timestamp()
                latencies.append(max(0.0, at - run.posted_at[change["event_id"]]) * 1000)
    return latencies


async def pipeline_stages(api: httpx.AsyncClient, pipeline_id: int) -> list[dict[str, Any]]:
    response = await api.get(f"/v1/pipelines/{pipeline_id}")
    response.raise_for_status()
    stages: list[dict[str, Any]] = response.json()["stages"]
    return stages
