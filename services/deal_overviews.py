"""A deal's overview (DEAL-5): its key fields, its last and next activity the caller may
see, its contact and whether it is stalled. Read under the deals tab's rules (PERM-3, PERM-7).
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Contact, Deal, Pipeline, Stage, User
from db.repositories import pipelines as pipelines_repo
from db.repositories import records
from domain.deal_risks import FollowUp
from domain.deals import DealStageKind, StageNorm, days_between, is_stalled
from domain.engagements import Engagement
from services.deal_engagements import follow_up, visible_engagements
from services.deals_tab import admit_deal
from services.stage_norms import stage_norms


@dataclass(frozen=True)
class DealOverview:
    deal: Deal
    pipeline: Pipeline
    stage: Stage
    owner: User | None
    contact: Contact | None
    last_activity: Engagement | None
    next_activity: FollowUp | None
    days_in_stage: int
    norm: StageNorm
    stalled: bool


async def deal_overview(
    session: AsyncSession, actor: User, deal_id: int, *, now: datetime | None = None
) -> DealOverview:
    """The deal's key fields, its last and next activity the caller may see, its contact and
    whether it is stalled (DEAL-5). Raises Forbidden, SeatRequired, NotFound."""
    now = now or datetime.now(UTC)
    async with session.begin():
        deal = await admit_deal(session, actor, deal_id, "reading a deal overview")
        pipeline = await pipelines_repo.get(session, deal.pipeline_id)
        stage = await pipelines_repo.get_stage(session, deal.stage_id)
        assert pipeline is not None and stage is not None  # foreign keys
        owner = await records.get(session, User, deal.owner_id) if deal.owner_id else None
        contact = await records.get(session, Contact, deal.contact_id) if deal.contact_id else None
        last = await visible_engagements(session, actor, deal, 1)
        upcoming = await follow_up(session, actor, deal, now)
        norm = (await stage_norms(session, [deal.stage_id], now))[deal.stage_id]
    return DealOverview(
        deal=deal,
        pipeline=pipeline,
        stage=stage,
        owner=owner,
        contact=contact,
        last_activity=last[0] if last else None,
        next_activity=upcoming,
        days_in_stage=days_between(deal.stage_entered_at, now),
        norm=norm,
        stalled=stage.kind == DealStageKind.OPEN and is_stalled(deal.stage_entered_at, now, norm),
    )
