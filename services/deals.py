"""Deals: created by hand or when a lead is qualified."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Deal, User
from db.repositories import deals as deals_repo
from db.repositories import pipelines as pipelines_repo
from db.repositories import records
from domain.errors import NotFound, invalid
from domain.roles import RECORD_EDITORS
from domain.stages import PipelineObject
from services.auth import require_role
from services.pagination import Page, PageRequest, to_page
from services.references import check_references

DEAL_REFERENCES = ("owner_id", "contact_id", "company_id", "lead_id")


async def create_deal(session: AsyncSession, actor: User, values: dict[str, Any]) -> Deal:
    require_role(actor, RECORD_EDITORS, "creating deals")
    async with session.begin():
        await _resolve_stage(session, values)
        await check_references(session, values, DEAL_REFERENCES)
        values.setdefault("owner_id", actor.id)
        deal = await records.add(session, Deal(**values))
    return deal


async def get_deal(session: AsyncSession, deal_id: int) -> Deal:
    deal = await records.get(session, Deal, deal_id)
    if deal is None:
        raise NotFound(f"deal {deal_id} does not exist")
    return deal


async def update_deal(
    session: AsyncSession, actor: User, deal_id: int, values: dict[str, Any]
) -> Deal:
    require_role(actor, RECORD_EDITORS, "editing deals")
    async with session.begin():
        deal = await get_deal(session, deal_id)
        if "pipeline_id" in values or "stage_id" in values:
            values = {"pipeline_id": deal.pipeline_id, **values}
            await _resolve_stage(session, values)
        await check_references(session, values, DEAL_REFERENCES)
        for name, value in values.items():
            setattr(deal, name, value)
    return deal


async def list_deals(
    session: AsyncSession, *, owner_id: int | None, pipeline_id: int | None, page: PageRequest
) -> Page[Deal]:
    rows = await deals_repo.list_deals(
        session,
        owner_id=owner_id,
        pipeline_id=pipeline_id,
        after_id=page.after_id,
        limit=page.limit + 1,
    )
    return to_page(rows, page, lambda r: r.id)


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
