"""The activity that enrolls a stage entry in its stage's chain (ACT-7 settings)."""

from temporalio import activity

from activities.chains import refuse
from db.engine import SessionFactory
from domain.chain_execution import ChainEnrollment, ChainEnrollmentRequest
from domain.errors import LeadpipeError
from services import chain_settings


class ChainEnrollmentActivities:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._session_factory = session_factory

    @activity.defn(name="enroll_in_chain")
    async def enroll_in_chain(self, input: ChainEnrollmentRequest) -> ChainEnrollment:
        """The run this entry reserved, or why it starts none; the same answer on a retry."""
        async with self._session_factory() as session:
            try:
                return await chain_settings.enroll(
                    session, input.lead_id, input.stage_id, input.stage_entry_id
                )
            except LeadpipeError as err:
                refuse(err)
