"""The Temporal worker: lead workflows, stage chains, guided actions and their activities.

Run `python worker.py`; start more processes to scale out on the same task queues.
"""

import asyncio
import compileall
import contextlib
import signal
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import structlog
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import (
    PollerBehaviorSimpleMaximum,
    UnsandboxedWorkflowRunner,
    Worker,
    WorkflowRunner,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities.chain_enrollment import ChainEnrollmentActivities
from activities.chains import ChainActivities
from activities.guided import GuidedActivities
from activities.leads import LeadActivities
from config import Settings, get_settings
from db.engine import SessionFactory, create_engine, create_session_factory
from devstack.temporal import register_search_attributes
from logs import configure_logging
from services import outbox
from services.orchestrator import Orchestrator, cannot_connect, connect, guided_task_queue
from services.webhook_transport import webhook_client
from workflows.guided_object import GuidedObjectWorkflow
from workflows.lead import LeadWorkflow
from workflows.stage_chain import StageChainWorkflow

log = structlog.get_logger(__name__)

OUTBOX_POLL_SECONDS = 1.0
OUTBOX_BATCH = 100
# Waiting for Temporal at start-up, or after the worker failed: 1 s, doubling up to 10 s.
RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 10.0
# A killed worker's cached workflows go to the shared queue after this (default 10 s): with
# heartbeats noticing its activities in 5 s, this bounds how long a lead waits.
STICKY_QUEUE_TIMEOUT = timedelta(seconds=3)
# Guided workflows mostly sleep on timers; a few cached keep a burst of evaluations of the
# same records from replaying each one.
GUIDED_CACHED_WORKFLOWS = 100


def workflow_runner(settings: Settings) -> WorkflowRunner:
    """The sandbox where `workflow_sandbox` asks for it (the tests), else workflow code runs
    as is: its determinism is checked by the tests and the replay of saved histories."""
    return SandboxedWorkflowRunner() if settings.workflow_sandbox else UnsandboxedWorkflowRunner()


def build_worker(client: Client, settings: Settings, session_factory: SessionFactory) -> Worker:
    """The worker of the main task queue: lead workflows, their chains and activities."""
    orchestrator = Orchestrator(client, settings.task_queue, settings.lead_history_limit)
    lead_activities = LeadActivities(session_factory, orchestrator)
    # Webhooks: one pooled client that connects only to public or allowed addresses; each
    # call sets its own timeout.
    http = webhook_client(settings.webhook_allow_list)
    chain_activities = ChainActivities(session_factory, orchestrator, settings, http)
    enrollment = ChainEnrollmentActivities(session_factory)
    return Worker(
        client,
        task_queue=settings.task_queue,
        # Guided workflows started before they had a queue of their own run here to the end.
        workflows=[LeadWorkflow, StageChainWorkflow, GuidedObjectWorkflow],
        activities=[
            lead_activities.load_lead,
            lead_activities.change_lead_stage,
            lead_activities.load_progression,
            lead_activities.is_default_pipeline,
            # Kept for lead workflows recorded before enrollment (chain-settings-enrollment).
            chain_activities.chain_in_force,
            enrollment.enroll_in_chain,
            chain_activities.load_chain_context,
            chain_activities.start_chain_run,
            chain_activities.record_chain_step,
            chain_activities.finish_chain_run,
            chain_activities.perform_chain_action,
            GuidedActivities(session_factory).evaluate_guided_object,
        ],
        # Ctrl-C lets running activities finish their transaction instead of cutting them off.
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_seconds),
        max_cached_workflows=settings.worker_cached_workflows,
        sticky_queue_schedule_to_start_timeout=STICKY_QUEUE_TIMEOUT,
        workflow_runner=workflow_runner(settings),
    )


def build_guided_worker(
    client: Client, settings: Settings, session_factory: SessionFactory
) -> Worker:
    """The worker of the guided task queue, with few slots: many records' evaluations fall
    due together and wait their turn there, never ahead of lead workflow tasks, and the
    signals a waiting evaluation gets meanwhile are taken by the same task, so fewer
    evaluations run (bench/README.md, "Where a move's time goes")."""
    slots = settings.guided_concurrency
    return Worker(
        client,
        task_queue=guided_task_queue(settings.task_queue),
        workflows=[GuidedObjectWorkflow],
        activities=[GuidedActivities(session_factory).evaluate_guided_object],
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_seconds),
        max_cached_workflows=min(GUIDED_CACHED_WORKFLOWS, settings.worker_cached_workflows),
        max_concurrent_workflow_tasks=slots,
        max_concurrent_local_activities=slots,
        workflow_task_poller_behavior=PollerBehaviorSimpleMaximum(slots),
        sticky_queue_schedule_to_start_timeout=STICKY_QUEUE_TIMEOUT,
        workflow_runner=workflow_runner(settings),
    )


@contextlib.asynccontextmanager
async def running_workers(
    client: Client, settings: Settings, session_factory: SessionFactory
) -> AsyncIterator[None]:
    """Both task queues' workers, polling until the block ends."""
    async with (
        build_worker(client, settings, session_factory),
        build_guided_worker(client, settings, session_factory),
    ):
        yield


async def relay_outbox(
    session_factory: SessionFactory, orchestrator: Orchestrator, *, guided_settle_seconds: float
) -> None:
    """Deliver what an API process committed but could not hand to Temporal (crash, outage),
    the refreshes a configuration change owes its leads, and the guided evaluations owed."""
    while True:
        delivered = 0
        try:
            delivered = await outbox.relay(
                session_factory,
                orchestrator,
                limit=OUTBOX_BATCH,
                settle_seconds=guided_settle_seconds,
            )
        except Exception:  # the relay must outlive a database blip; the next pass retries
            log.exception("outbox relay pass failed")
        # A full pass means a backlog (a renamed stage owes each of its leads a refresh):
        # go on at once rather than deliver one batch a second.
        if delivered < OUTBOX_BATCH:
            await asyncio.sleep(OUTBOX_POLL_SECONDS)


async def connect_when_up(settings: Settings, stop: asyncio.Event) -> Client | None:
    """Connect and register the search attributes, retrying while Temporal is down; None if
    told to stop first. A worker cannot use a lazy client, so this waits for a real one."""
    delay = RETRY_FIRST_SECONDS
    while not stop.is_set():
        try:
            client = await connect(settings.temporal_target, settings.temporal_namespace)
            # Operators filter lead workflows by these; registering is idempotent across
            # replicas.
            await register_search_attributes(client, settings.temporal_namespace)
            return client
        except RPCError as err:
            error = str(err)
        except RuntimeError as err:
            error = str(cannot_connect(err))
        log.warning(
            "waiting for Temporal", temporal=settings.temporal_target, error=error, retry_in=delay
        )
        await until(stop, delay)
        delay = min(delay * 2, RETRY_MAX_SECONDS)
    return None


async def until(stop: asyncio.Event, seconds: float) -> None:
    """Sleep, but wake up at once when `stop` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    if settings.workflow_sandbox:
        # The sandbox imports the workflow modules afresh for every workflow it runs (new, or
        # replayed after eviction): with PYTHONDONTWRITEBYTECODE=1 each import compiled them
        # again, half of that set-up. Python reads __pycache__ whatever the variable says.
        compileall.compile_dir(Path(__file__).parent / "workflows", quiet=2)
    engine = create_engine(settings.sqlalchemy_url)
    session_factory = create_session_factory(engine)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    client = await connect_when_up(settings, stop)
    relay: asyncio.Task[None] | None = None
    if client is not None:
        orchestrator = Orchestrator(client, settings.task_queue, settings.lead_history_limit)
        relay = asyncio.create_task(
            relay_outbox(
                session_factory,
                orchestrator,
                guided_settle_seconds=settings.guided_settle_seconds,
            )
        )
    delay = RETRY_FIRST_SECONDS
    while client is not None and not stop.is_set():
        try:
            async with running_workers(client, settings, session_factory):
                log.info(
                    "worker started",
                    task_queue=settings.task_queue,
                    temporal=settings.temporal_target,
                )
                delay = RETRY_FIRST_SECONDS
                await stop.wait()
                log.info("worker stopping; waiting for running activities")
        except Exception:  # a fatal worker error (a long outage): start a new one, as a
            # supervisor would, rather than leave the process up with nothing polling
            log.exception("worker failed; starting again", retry_in=delay)
            await until(stop, delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)
    if relay is not None:
        relay.cancel()
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
