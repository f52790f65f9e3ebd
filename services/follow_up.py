"""Follow-up leads on disqualification (AUT-10, AUT-12)."""

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OutboxMessage
from db.repositories import leads as leads_repo
from db.repositories import pipelines as pipelines_repo
from domain.automation import RuleName
from domain.leads import DisqualificationCause, LeadSource, MoveCause, workflow_id_for
from domain.stages import StageKind
from services import outbox
from services.automation import get_automation
from services.leads import NewLead, insert_lead


async def create_follow_up_lead(
    session: AsyncSession, lead_id: int, transition_key: str
) -> OutboxMessage | None:
    """After a disqualification, the follow-up lead the pipeline's rule asks for, if any.

    Exactly one per disqualifying transition: the lead's idempotency key derives from it. The
    new lead has the chosen type, the same contact, company and owner, the same pipeline's
    first stage, `source: follow_up` and `parent_lead_id`; its history names the disqualifying
    transition (AUT-13). Returns the outbox message that
    starts its workflow, or None when nothing was created.
    """
    key = f"follow-up/{transition_key}"
    async with session.begin():
        if await leads_repo.get_by_idempotency_key(session, key) is not None:
            return None
        lead = await leads_repo.get(session, lead_id)
        stage = await pipelines_repo.get_stage(session, lead.stage_id) if lead else None
        if lead is None or stage is None or stage.kind != StageKind.DISQUALIFIED:
            return None
        rule = (await get_automation(session, lead.pipeline_id)).follow_up_on_disqualify
        if not rule.creates_follow_up(lead.disqualification_reason_id):
            return None
        transition = await leads_repo.get_stage_change_by_key(session, transition_key)
        follow_up = await insert_lead(
            session,
            NewLead(
                contact_id=lead.contact_id,
                company_id=lead.company_id,
                pipeline_id=lead.pipeline_id,
                owner_id=lead.owner_id,
                lead_type=rule.lead_type,
                source=LeadSource.FOLLOW_UP,
                parent_lead_id=lead.id,
                name=f"{lead.name} (follow-up)",
            ),
            actor_id=None,
            idempotency_key=key,
            cause=MoveCause.automation(RuleName.FOLLOW_UP_ON_DISQUALIFY),
            caused_by=DisqualificationCause(
                lead_id=lead.id,
                stage_change_id=transition.id,
                from_stage_id=transition.from_stage_id,
                to_stage_id=transition.to_stage_id,
                disqualification_reason_id=transition.disqualification_reason_id,
                at=transition.at,
            )
            if transition is not None
            else None,
        )
        return await outbox.enqueue(
            session,
            outbox.START_LEAD,
            workflow_id_for(follow_up.id),
            {"lead_id": follow_up.id, "summary": f"Lead {follow_up.id}: {follow_up.name}"},
        )
