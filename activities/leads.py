"""Activities of the lead workflow: all its database I/O, through the services."""

from typing import NoReturn

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeats import heartbeating
from db.engine import SessionFactory, use_autocommit
from domain.errors import LeadpipeError
from domain.leads import LeadSnapshot, LoadLeadInput, StageChangeInput, StageChangeResult
from domain.progression import LoadProgressionInput, ProgressionConfig
from domain.stages import StageKind
from services import follow_up, lead_transitions, outbox, progression
from services.orchestrator import Orchestrator, error_payload


def refuse(err: LeadpipeError) -> NoReturn:
    """A business refusal: no retry can change it, and the caller needs its reason."""
    raise ApplicationError(
        err.detail, error_payload(err), type=err.type, non_retryable=True
    ) from err


class LeadActivities:
    def __init__(self, session_factory: SessionFactory, orchestrator: Orchestrator) -> None:
        self._session_factory = session_factory
        self._orchestrator = orchestrator

    @activity.defn(name="load_lead")
    async def load_lead(self, input: LoadLeadInput) -> LeadSnapshot:
        return await heartbeating(self._load_lead(input))

    # The reads below need no transaction: under READ COMMITTED each statement sees the
    # latest commits either way, and autocommit spares BEGIN and ROLLBACK.

    async def _load_lead(self, input: LoadLeadInput) -> LeadSnapshot:
        async with self._session_factory() as session:
            await use_autocommit(session)
            try:
                return await lead_transitions.load_snapshot(session, input.lead_id)
            except LeadpipeError as err:
                refuse(err)

    @activity.defn(name="load_progression")
    async def load_progression(self, input: LoadProgressionInput) -> ProgressionConfig:
        async with self._session_factory() as session:
            await use_autocommit(session)
            try:
                return await progression.load_progression(session, input.pipeline_id)
            except LeadpipeError as err:
                refuse(err)

    @activity.defn(name="is_default_pipeline")
    async def is_default_pipeline(self, input: LoadProgressionInput) -> bool:
        async with self._session_factory() as session:
            await use_autocommit(session)
            return await progression.is_default_pipeline(session, input.pipeline_id)

    @activity.defn(name="change_lead_stage")
    async def change_lead_stage(self, input: StageChangeInput) -> StageChangeResult:
        # The lead workflow waits on this: a dead worker must show within a heartbeat timeout.
        return await heartbeating(self._change_lead_stage(input))

    async def _change_lead_stage(self, input: StageChangeInput) -> StageChangeResult:
        async with self._session_factory() as session:
            try:
                result = await lead_transitions.change_stage(session, input)
            except LeadpipeError as err:
                refuse(err)
        if result.moved and result.snapshot.stage_kind == StageKind.DISQUALIFIED:
            # Its own transaction, idempotent on the transition: a retry creates no second lead.
            async with self._session_factory() as session:
                message = await follow_up.create_follow_up_lead(
                    session, input.lead_id, input.transition_key
                )
            if message is not None:
                await outbox.relay(self._session_factory, self._orchestrator, ids=[message.id])
        return result
