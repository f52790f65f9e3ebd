"""Deal insights (DEAL-6 to DEAL-11, PERM-7): the facts of a deal and the engagements the
caller may see, handed to the rules of domain/insights.py; feedback on them kept.

Only what the caller may see goes in (DEAL-8): the deal under their deal visibility, the
activities under their activity visibility, and the meetings and tasks that count as a
follow-up likewise. Reading insights keeps the day's deal score for the caller's visibility
scope, so a later reading can tell a falling score.
"""

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import InsightFeedback, User
from db.repositories import deals as deals_repo
from db.repositories import insights as insights_repo
from db.repositories import pipelines as pipelines_repo
from domain.deal_risks import SLIP_WINDOW, CloseDateChange, DealFacts
from domain.deal_score import FALL_WINDOW, ScorePoint, score_deal
from domain.deals import DealStageKind, local_today
from domain.engagements import INSIGHT_ENGAGEMENTS
from domain.insights import Insights, build_insights
from services import visibility
from services.ai_settings import require_customer_analysis
from services.deal_engagements import follow_up, visible_engagements
from services.deals_tab import admit_deal
from services.insight_text import NO_SUMMARY, Summary, SummaryWriter, summarize
from services.stage_norms import stage_norms


@dataclass(frozen=True)
class InsightsRead:
    insights: Insights
    summary: Summary | None = None


async def deal_insights(
    session: AsyncSession,
    actor: User,
    deal_id: int,
    *,
    now: datetime | None = None,
    writer: SummaryWriter = NO_SUMMARY,
) -> InsightsRead:
    """Recent activity, risks and buyer goals of the deal, with their plain text.

    Raises InsightsDisabled (customer analysis off), Forbidden, SeatRequired, NotFound (no
    such deal, or hidden by the caller's deal visibility).
    """
    now = now or datetime.now(UTC)
    async with session.begin():
        await require_customer_analysis(session)
        deal = await admit_deal(session, actor, deal_id, "reading deal insights")
        stage = await pipelines_repo.get_stage(session, deal.stage_id)
        assert stage is not None  # a foreign key
        latest = await deals_repo.latest_stage_change(session, deal.id)
        norm = (await stage_norms(session, [deal.stage_id], now))[deal.stage_id]
        changes = await deals_repo.close_date_changes(session, deal.id, now - SLIP_WINDOW)
        upcoming = await follow_up(session, actor, deal, now)
        engagements = await visible_engagements(session, actor, deal, INSIGHT_ENGAGEMENTS)
        scope = visibility.activity_scope(actor)
        # Scores are kept by UTC day: one history per scope, whoever's zone reads it.
        scored_on = now.astimezone(UTC).date()
        history = await insights_repo.score_history(
            session, deal.id, scope, scored_on - FALL_WINDOW
        )
        today = local_today(now, actor.time_zone)
        score = score_deal(
            engagements,
            now=now,
            today=today,
            follow_up_scheduled=upcoming is not None,
            close_date=deal.close_date,
        )
        await insights_repo.save_score(
            session,
            deal_id=deal.id,
            scope=scope,
            scored_on=scored_on,
            score=score.value,
            factors=[asdict(f) for f in score.factors],
        )
        facts = DealFacts(
            deal_id=deal.id,
            name=deal.name,
            is_open=stage.kind == DealStageKind.OPEN,
            stage_label=stage.label,
            stage_entered_at=deal.stage_entered_at,
            stage_change_id=latest.id
            if latest is not None and latest.to_stage_id == deal.stage_id
            else None,
            norm=norm,
            close_date=deal.close_date,
            close_date_changes=tuple(
                CloseDateChange(c.id, c.at, c.from_date, c.to_date) for c in changes
            ),
            follow_up=upcoming,
        )
        insights = build_insights(
            facts,
            engagements,
            score,
            [ScorePoint(r.id, r.scored_on, r.score) for r in history],
            now=now,
            today=today,
            score_day=scored_on,
            time_zone=actor.time_zone,
        )
    return InsightsRead(insights, await summarize(writer, insights))


async def give_feedback(
    session: AsyncSession, actor: User, deal_id: int, *, helpful: bool, comment: str | None
) -> InsightFeedback:
    """Keep the caller's verdict on the deal's insights (DEAL-11). Raises as `deal_insights`."""
    async with session.begin():
        await require_customer_analysis(session)
        deal = await admit_deal(session, actor, deal_id, "giving feedback on deal insights")
        return await insights_repo.add_feedback(
            session,
            InsightFeedback(deal_id=deal.id, user_id=actor.id, helpful=helpful, comment=comment),
        )
