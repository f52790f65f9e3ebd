from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select, union_all
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Activity, AiSettingsRow, Call, DealScoreRow, InsightFeedback, Meeting


async def deal_engagements(
    session: AsyncSession,
    *,
    deal_id: int,
    contact_id: int | None,
    types: frozenset[str],
    logged_by: int | None,
    limit: int,
) -> Sequence[tuple[Activity, Meeting | None, Call | None]]:
    """The newest activities of these types on the deal, or on its contact without a deal,
    each with the meeting or call it made; only those `logged_by` logged when given.

    Each side is read through its own (column, occurred_at, id) index, newest first, and the
    two are merged: one OR over both columns would read every row of both.
    """

    def side(*conditions: Any) -> Any:
        query = (
            select(Activity.id)
            .where(*conditions, Activity.type.in_(sorted(types)))
            .order_by(Activity.occurred_at.desc(), Activity.id.desc())
            .limit(limit)
        )
        if logged_by is not None:
            query = query.where(Activity.user_id == logged_by)
        return query

    sides = [side(Activity.deal_id == deal_id)]
    if contact_id is not None:
        sides.append(side(Activity.contact_id == contact_id, Activity.deal_id.is_(None)))
    ids = union_all(*sides).subquery()
    rows = await session.execute(
        select(Activity, Meeting, Call)
        .outerjoin(Meeting, Meeting.id == Activity.meeting_id)
        .outerjoin(Call, Call.id == Activity.call_id)
        .where(Activity.id.in_(select(ids.c.id)))
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        .limit(limit)
    )
    return rows.tuples().all()


async def score_history(
    session: AsyncSession, deal_id: int, scope: str, since: date
) -> Sequence[DealScoreRow]:
    return (
        await session.scalars(
            select(DealScoreRow)
            .where(
                DealScoreRow.deal_id == deal_id,
                DealScoreRow.scope == scope,
                DealScoreRow.scored_on >= since,
            )
            .order_by(DealScoreRow.scored_on)
        )
    ).all()


async def save_score(
    session: AsyncSession,
    *,
    deal_id: int,
    scope: str,
    scored_on: date,
    score: int,
    factors: list[dict[str, Any]],
) -> None:
    """Keep the day's score for the scope; a later one the same day replaces it."""
    statement = insert(DealScoreRow).values(
        deal_id=deal_id, scope=scope, scored_on=scored_on, score=score, factors=factors
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["deal_id", "scope", "scored_on"],
            set_={
                "score": statement.excluded.score,
                "factors": statement.excluded.factors,
                "updated_at": statement.excluded.updated_at,
            },
        )
    )


async def add_feedback(session: AsyncSession, feedback: InsightFeedback) -> InsightFeedback:
    session.add(feedback)
    await session.flush()
    return feedback


async def customer_analysis_on(session: AsyncSession) -> bool:
    """The switch in force; on when it was never saved."""
    enabled = await session.scalar(
        select(AiSettingsRow.customer_analysis).where(AiSettingsRow.id == 1)
    )
    return True if enabled is None else enabled
