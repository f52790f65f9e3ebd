"""The Temporal worker: lead workflows, stage chains and their activities.

Run `python worker.py`; start more processes to scale out on the same task queue.
"""

import asyncio
import signal
from datetime import timedelta

import structlog
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities.chains import ChainActivities
from activities.leads import LeadActivities
from config import Settings, get_settings
from db.engine import SessionFactory, create_engine, create_session_factory
from devstack.temporal import register_search_attributes
from logs import configure_logging
from services import outbox
from services.orchestrator import Orchestrator
from services.webhook_transport import webhook_client
from workflows.lead import LeadWorkflow
from workflows.stage_chain import StageChainWorkflow

log = structlog.get_logger(__name__)

OUTBOX_POLL_SECONDS = 1.0


def build_worker(client: Client, settings: Settings, session_factory: SessionFactory) -> Worker:
    orchestrator = Orchestrator(client, settings.task_queue, settings.lead_history_limit)
    lead_activities = LeadActivities(session_factory, orchestrator)
    # Webhooks: one pooled client that connects only to public or allowed addresses; each
    # call sets its own timeout.
    http = webhook_client(settings.webhook_allow_list)
    chain_activities = ChainActivities(session_factory, orchestrator, settings, http)
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[LeadWorkflow, StageChainWorkflow],
        activities=[
            lead_activities.load_lead,
            lead_activities.change_lead_stage,
            lead_activities.load_progression,
            chain_activities.chain_in_force,
            chain_activities.load_chain_context,
            chain_activities.start_chain_run,
            chain_activities.record_chain_step,
            chain_activities.finish_chain_run,
            chain_activities.perform_chain_action,
        ],
        # Ctrl-C lets running activities finish their transaction instead of cutting them off.
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_seconds),
        # A killed worker's cached workflows go to the shared queue after this (default 10 s):
        # with heartbeats noticing its activities in 5 s, this bounds how long a lead waits.
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=3),
    )


async def relay_outbox(session_factory: SessionFactory, orchestrator: Orchestrator) -> None:
    """Deliver what an API process committed but could not hand to Temporal (crash, outage)."""
    while True:
        try:
            await outbox.relay(session_factory, orchestrator)
        except Exception:  # the relay must outlive a database blip; the next pass retries
            log.exception("outbox relay pass failed")
        await asyncio.sleep(OUTBOX_POLL_SECONDS)


async def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    client = await Client.connect(
        settings.temporal_target,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )
    # Operators filter lead workflows by these; registering is idempotent across replicas.
    await register_search_attributes(client, settings.temporal_namespace)
    engine = create_engine(settings.sqlalchemy_url)
    session_factory = create_session_factory(engine)
    orchestrator = Orchestrator(client, settings.task_queue, settings.lead_history_limit)
    worker = build_worker(client, settings, session_factory)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    relay = asyncio.create_task(relay_outbox(session_factory, orchestrator))
    async with worker:
        log.info(
            "worker started", task_queue=settings.task_queue, temporal=settings.temporal_target
        )
        await stop.wait()
        log.info("worker stopping; waiting for running activities")
    relay.cancel()
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
