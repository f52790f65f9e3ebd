"""Heartbeats for activities whose worker may die mid-call."""

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from temporalio import activity

T = TypeVar("T")

HEARTBEAT_EVERY_SECONDS = 2.0


async def heartbeating(work: Coroutine[Any, Any, T]) -> T:
    """Await `work`, heartbeating meanwhile: a worker killed mid-call is noticed within the
    caller's heartbeat timeout, not after the whole start-to-close timeout."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY_SECONDS)
            if done:
                return task.result()
            # A local activity has no heartbeat: its workflow task's timeout covers it.
            if not activity.info().is_local:
                activity.heartbeat()
    except asyncio.CancelledError:
        # Let the work finish its transaction; its idempotency key makes the retry a no-op.
        await asyncio.shield(task)
        raise
