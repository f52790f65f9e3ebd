"""Deals: created by hand or when a lead is qualified; read and changed under the caller's
deal visibility (PERM-7). Every change of stage or close date is kept in the deal's history
(the stalled view and insights read it)."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Deal, DealCloseDateChange, DealStageChange, User
from db.repositories import deals as deals_repo
from db.repositories import pipelines as pipelines_repo
from db.repositories import records
from domain.errors import invalid
from domain.guided import ObjectKind
from domain.roles import EVERYONE, RECORD_EDITORS
from domain.stages import PipelineObject
from services import guided_actions, visibility
from services.auth import require_role
from services.references import check_references

DEAL_REFERENCES = ("owner_id", "contact_id", "company_id", "lead_id")


async def create_deal(session: AsyncSession, actor: User, values: dict[str, Any]) -> Deal:
    require_role(actor, RECORD_EDITORS, "creating deals")
    async with session.begin():
        await _resolve_stage(session, values)
        await check_references(session, values, DEAL_REFERENCES)
        # The body sends `owner_id: null` when it names none: the creator owns the deal.
        if values.get("owner_id") is None:
            values["owner_id"] = actor.id
        deal = await records.add(session, Deal(**values))
        await guided_actions.enqueue_evaluation(session, [(ObjectKind.DEAL, deal.id)])
    return deal


async def get_deal(session: AsyncSession, actor: User, deal_id: int) -> Deal:
    """Raises NotFound: no such deal, or one the caller's deal visibility hides."""
    require_role(actor, EVERYONE, "reading deals")
    deal = await records.get(session, Deal, deal_id)
    return visibility.visible_deal(actor, deal, deal_id)


async def update_deal(
    session: AsyncSession,
    actor: User,
    deal_id: int,
    values: dict[str, Any],
    *,
    now: datetime | None = None,
) -> Deal:
    """Change the fields given; a new stage or close date is recorded in the deal's history
    (a new stage also restarts its time in stage). The overview's stage update and close
    date edit (DEAL-5).

    Raises Forbidden (role), NotFound (no such deal, or hidden by the caller's deal
    visibility), InvalidInput (a stage not in the pipeline, an unknown reference).
    """
    require_role(actor, RECORD_EDITORS, "editing deals")
    async with session.begin():
        deal = visibility.visible_deal(
            actor, await records.get(session, Deal, deal_id, for_update=True), deal_id
        )
        await change_deal(session, deal, values, at=now or datetime.now(UTC), actor_id=actor.id)
    return deal


async def change_deal(
    session: AsyncSession,
    deal: Deal,
    values: dict[str, Any],
    *,
    at: datetime,
    actor_id: int | None,
) -> None:
    """Apply `values` to a locked `deal` in the caller's transaction, keeping the stage and
    close date history; a chain's change has no actor. Raises InvalidInput (a stage not in the
    pipeline, an unknown reference)."""
    contact_before = deal.contact_id
    if "pipeline_id" in values or "stage_id" in values:
        values = {"pipeline_id": deal.pipeline_id, **values}
        await _resolve_stage(session, values)
    await check_references(session, values, DEAL_REFERENCES)
    if "stage_id" in values and values["stage_id"] != deal.stage_id:
        await deals_repo.add_stage_change(
            session,
            DealStageChange(
                deal_id=deal.id,
                at=at,
                from_stage_id=deal.stage_id,
                to_stage_id=values["stage_id"],
                seconds_in_from_stage=max(0.0, (at - deal.stage_entered_at).total_seconds()),
                actor_id=actor_id,
            ),
        )
        deal.stage_entered_at = at
    if "close_date" in values and values["close_date"] != deal.close_date:
        await deals_repo.add_close_date_change(
            session,
            DealCloseDateChange(
                deal_id=deal.id,
                at=at,
                from_date=deal.close_date,
                to_date=values["close_date"],
                actor_id=actor_id,
            ),
        )
    if "next_steps" in values and values["next_steps"] != deal.next_steps:
        deal.next_steps_changed_at = at
    for name, value in values.items():
        setattr(deal, name, value)
    # The contact it names before and after: GA-10 and GA-19 read a contact's deals.
    await guided_actions.enqueue_evaluation(
        session, [(ObjectKind.DEAL, deal.id), (ObjectKind.CONTACT, contact_before)]
    )


async def _resolve_stage(session: AsyncSession, values: dict[str, Any]) -> None:
    """Fill in the default deal pipeline and its first stage; check the pair fits."""
    pipeline_id = values.get("pipeline_id")
    pipeline = (
        await pipelines_repo.get_default(session, PipelineObject.DEAL)
        if pipeline_id is None
        else await pipelines_repo.get(session, pipeline_id)
    )
    if pipeline is None or pipeline.object != PipelineObject.DEAL:
        raise invalid(
            "pipeline_id", "deal_pipeline", f"pipeline {pipeline_id} is not a deal pipeline"
        )
    values["pipeline_id"] = pipeline.id
    stage_id = values.get("stage_id")
    if stage_id is None:
        values["stage_id"] = pipeline.stages[0].id
    elif all(s.id != stage_id for s in pipeline.stages):
        raise invalid(
            "stage_id", "stage_in_pipeline", f"stage {stage_id} is not in pipeline {pipeline.id}"
        )
