"""What workflows were signalled, read from their histories: deliveries, duplicates included."""

import json
from collections import Counter

from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

# A batch delivers a lead's events as one `activities` signal (a list): counted as `activity`.
BATCHED = {"activity": "activities"}


def event_ids_of(event: HistoryEvent, signal: str) -> list[str]:
    """The event ids one history event brought by `signal` (or its batched form)."""
    if not event.HasField("workflow_execution_signaled_event_attributes"):
        return []
    signalled = event.workflow_execution_signaled_event_attributes
    if not signalled.input.payloads:
        return []
    body = json.loads(signalled.input.payloads[0].data)
    if signalled.signal_name == signal:
        return [str(body["event_id"])]
    if signalled.signal_name == BATCHED.get(signal):
        return [str(item["event_id"]) for item in body]
    return []


async def signalled_event_ids(client: Client, workflow_id: str, signal: str) -> Counter[str]:
    """How many times each event id came in by `signal`, over every run of the workflow.

    Counts signals as the server recorded them, before the workflow's own dedupe.
    """
    counts: Counter[str] = Counter()
    run_id: str | None = None
    # The latest run first; continue-as-new links each run to the one before it.
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        first = history.events[0].workflow_execution_started_event_attributes
        for event in history.events:
            counts.update(event_ids_of(event, signal))
        if not first.continued_execution_run_id:
            break
        run_id = first.continued_execution_run_id
    return counts


async def signalled_in_order(client: Client, workflow_id: str, signal: str) -> list[str]:
    """The event ids that came in by `signal`, in the order the server recorded them, over
    every run of the workflow (oldest run first)."""
    runs: list[list[str]] = []
    run_id: str | None = None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        first = history.events[0].workflow_execution_started_event_attributes
        ids: list[str] = []
        for event in history.events:
            ids.extend(event_ids_of(event, signal))
        runs.append(ids)
        if not first.continued_execution_run_id:
            break
        run_id = first.continued_execution_run_id
    return [event_id for ids in reversed(runs) for event_id in ids]
