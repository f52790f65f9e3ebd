"""Stage transitions as the lead workflow's activities write them (one transaction each)."""

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Deal, Lead, LeadStageChange, Pipeline, Stage
from db.repositories import lead_config as config_repo
from db.repositories import leads as leads_repo
from db.repositories import pipelines as pipelines_repo
from db.repositories import records
from domain.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    invalid,
)
from domain.guided import ObjectKind
from domain.leads import (
    DealDraft,
    LeadSnapshot,
    MoveCause,
    StageChangeInput,
    StageChangeResult,
)
from domain.stages import PipelineObject, StageKind, is_backward
from services import guided_actions
from services.lead_settings import load_settings


async def load_snapshot(session: AsyncSession, lead_id: int) -> LeadSnapshot:
    lead = await leads_repo.get(session, lead_id)
    if lead is None:
        raise NotFound(f"lead {lead_id} does not exist")
    return await snapshot_of(session, lead)


async def snapshot_of(
    session: AsyncSession, lead: Lead, entry: LeadStageChange | None = None
) -> LeadSnapshot:
    """The lead as its workflow holds it; `entry` is the move into its stage just written
    (else the latest one is read)."""
    stage = await pipelines_repo.get_stage(session, lead.stage_id)
    pipeline = await pipelines_repo.label_and_default(session, lead.pipeline_id)
    assert stage is not None and pipeline is not None  # foreign keys guarantee both
    pipeline_label, is_default = pipeline
    return LeadSnapshot(
        lead_id=lead.id,
        name=lead.name,
        pipeline_id=lead.pipeline_id,
        pipeline_label=pipeline_label,
        is_default_pipeline=is_default,
        stage_id=stage.id,
        stage_label=stage.label,
        stage_kind=stage.kind,
        owner_id=lead.owner_id,
        lead_type=lead.lead_type,
        auto_progression=lead.auto_progression,
        last_manual_move_at=lead.last_manual_move_at,
        stage_entry_id=entry.id
        if entry is not None
        else await leads_repo.stage_entry_id(session, lead.id, lead.stage_id),
    )


async def check_move(
    session: AsyncSession,
    lead: Lead,
    stage_id: int,
    deal: DealDraft | None = None,
    disqualification_reason_id: int | None = None,
) -> tuple[Stage, Stage]:
    """The lead's current stage and the target, if the pipeline and the lead settings allow it.

    Raises InvalidInput (unknown or deleted stage, stage of another pipeline, a deal or reason
    the target does not take, unknown or removed reason), InvalidTransition (QUA-2: deal
    required; DIS-2: reason required; `errors` names the missing field), Conflict (already
    there). The same check runs in the API (fast answer) and in the activity (authoritative,
    with the settings in force when the move is written).
    """
    target = await pipelines_repo.get_stage(session, stage_id)
    if target is None or target.pipeline_id != lead.pipeline_id or target.removed_at is not None:
        raise invalid(
            "stage_id",
            "stage_in_pipeline",
            f"stage {stage_id} is not a stage of this lead's pipeline",
        )
    current = await pipelines_repo.get_stage(session, lead.stage_id)
    assert current is not None
    if target.id == current.id:
        raise Conflict(f"lead is already in stage {current.label}")
    if deal is not None and target.kind != StageKind.QUALIFIED:
        raise invalid(
            "deal", "only_on_qualify", "a deal can only be created with a move to a qualified stage"
        )
    if disqualification_reason_id is not None:
        if target.kind != StageKind.DISQUALIFIED:
            raise invalid(
                "disqualification_reason_id",
                "only_on_disqualify",
                "a disqualification reason goes only with a move to a disqualified stage",
            )
        reason = await config_repo.get_reason(session, disqualification_reason_id)
        if reason is None or reason.removed_at is not None:
            # DIS-3, DIS-4: a reason must be valid whether or not one is required.
            raise invalid(
                "disqualification_reason_id",
                "exists",
                f"disqualification reason {disqualification_reason_id} does not exist "
                "or was removed",
            )
    if target.kind not in (StageKind.QUALIFIED, StageKind.DISQUALIFIED):
        return current, target  # the lead settings govern only these two kinds of move
    settings = await load_settings(session)
    if target.kind == StageKind.QUALIFIED and deal is None and settings.require_deal_on_qualify:
        raise _missing(
            "deal",
            f"qualifying a lead creates a deal: send `deal` (at least its name) with the move "
            f"to {target.label}",
        )
    if (
        target.kind == StageKind.DISQUALIFIED
        and disqualification_reason_id is None
        and settings.require_disqualification_reason
    ):
        raise _missing(
            "disqualification_reason_id",
            f"disqualifying a lead needs a reason: send `disqualification_reason_id` with the "
            f"move to {target.label}",
        )
    return current, target


def _missing(field_name: str, message: str) -> InvalidTransition:
    return InvalidTransition(message, [FieldError(field_name, "required", message)])


async def change_stage(session: AsyncSession, data: StageChangeInput) -> StageChangeResult:
    """Apply one transition: the lead's stage, its history row and any deal, atomically.

    Idempotent on `transition_key`: a retried activity returns the lead as it now is.
    """
    async with session.begin():
        if await leads_repo.get_stage_change_by_key(session, data.transition_key) is not None:
            lead = await leads_repo.get(session, data.lead_id)
            assert lead is not None
            return StageChangeResult(
                snapshot=await snapshot_of(session, lead), moved=True, deal_id=lead.deal_id
            )
        lead = await leads_repo.get(session, data.lead_id, for_update=True)
        if lead is None:
            raise NotFound(f"lead {data.lead_id} does not exist")
        if data.expected_from_stage_id not in (None, lead.stage_id):
            # Someone moved the lead since automation decided: their move stands.
            return StageChangeResult(snapshot=await snapshot_of(session, lead), moved=False)
        current, target = await check_move(
            session,
            lead,
            data.to_stage_id,
            deal=data.deal,
            disqualification_reason_id=data.disqualification_reason_id,
        )
        deal_id = None
        if data.deal is not None:
            deal_id = (await _create_deal(session, lead, data.deal)).id
            lead.deal_id = deal_id
        is_manual = data.cause == MoveCause.MANUAL
        if is_manual:
            lead.last_manual_move_at = datetime.now(UTC)
            # AUT-8: a manual move to an earlier stage stops automation for good.
            if is_backward(current.position, target.position):
                lead.auto_progression = False
        lead.stage_id = target.id
        if target.kind == StageKind.DISQUALIFIED:
            lead.disqualification_reason_id = data.disqualification_reason_id
        entry = await leads_repo.add_stage_change(
            session,
            LeadStageChange(
                lead_id=lead.id,
                from_stage_id=current.id,
                to_stage_id=target.id,
                cause=data.cause,
                actor_id=data.actor_id,
                event_id=data.event_id,
                disqualification_reason_id=data.disqualification_reason_id,
                transition_key=data.transition_key,
            ),
        )
        await guided_actions.enqueue_evaluation(
            session, [(ObjectKind.LEAD, lead.id), (ObjectKind.DEAL, deal_id)]
        )
        await session.flush()
        return StageChangeResult(
            snapshot=await snapshot_of(session, lead, entry), moved=True, deal_id=deal_id
        )


async def _create_deal(session: AsyncSession, lead: Lead, draft: DealDraft) -> Deal:
    """QUA-3: the deal belongs to the lead, its contact and company, and the lead's owner."""
    pipeline: Pipeline | None
    if draft.pipeline_id is not None:
        pipeline = await pipelines_repo.get(session, draft.pipeline_id)
        if pipeline is None or pipeline.object != PipelineObject.DEAL:
            raise invalid(
                "deal.pipeline_id",
                "deal_pipeline",
                f"pipeline {draft.pipeline_id} is not a deal pipeline",
            )
    else:
        pipeline = await pipelines_repo.get_default(session, PipelineObject.DEAL)
        if pipeline is None:
            raise InvalidTransition("there is no default deal pipeline to create the deal in")
    if draft.stage_id is not None:
        stage = next((s for s in pipeline.stages if s.id == draft.stage_id), None)
        if stage is None:
            raise invalid(
                "deal.stage_id",
                "stage_in_pipeline",
                f"stage {draft.stage_id} is not in deal pipeline {pipeline.id}",
            )
    else:
        stage = pipeline.stages[0]
    if not draft.name.strip():
        raise InvalidInput("deal.name must not be empty")
    return await records.add(
        session,
        Deal(
            name=draft.name.strip(),
            amount=draft.amount,
            close_date=draft.close_date,
            pipeline_id=pipeline.id,
            stage_id=stage.id,
            owner_id=lead.owner_id,
            contact_id=lead.contact_id,
            company_id=lead.company_id,
            lead_id=lead.id,
        ),
    )
