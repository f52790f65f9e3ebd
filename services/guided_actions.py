"""Guided actions' write side (placeholder with the agreed signature until the evaluation
lands; that module replaces this one)."""

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import GuidedAction, GuidedActionItem


async def complete_item(
    session: AsyncSession, action_id: int, object: str, object_id: int, user_id: int
) -> bool:
    """Mark the open item done, ending the action with its last open item. False when the
    user's action has no such open item."""
    now = datetime.now(UTC)
    done = await session.scalar(
        update(GuidedActionItem)
        .where(
            GuidedActionItem.action_id == action_id,
            GuidedActionItem.object == object,
            GuidedActionItem.object_id == object_id,
            GuidedActionItem.ended_at.is_(None),
            GuidedActionItem.action_id.in_(
                select(GuidedAction.id).where(GuidedAction.user_id == user_id)
            ),
        )
        .values(done_at=now, ended_at=now, end_reason="done")
        .returning(GuidedActionItem.id)
    )
    if done is None:
        return False
    left = await session.scalar(
        select(GuidedActionItem.id)
        .where(GuidedActionItem.action_id == action_id, GuidedActionItem.ended_at.is_(None))
        .limit(1)
    )
    if left is None:
        await session.execute(
            update(GuidedAction)
            .where(GuidedAction.id == action_id)
            .values(ended_at=now, end_reason="done")
        )
    return True
