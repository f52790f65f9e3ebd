"""Reads of guided actions for the workspace (GA-2, GA-3, GA-5 to GA-8); the writes that make,
end and complete them are `db/repositories/guided_actions.py`'s.

Shown means open: an action not ended with at least one open item, an item not ended whose
window (`expires_at`) has not passed. The window is checked here as well as by the timer that
ends the item, so nothing past its expiry is shown while that timer is still on its way (GA-2).
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import GuidedAction, GuidedActionFeedback, GuidedActionItem

# Most urgent first: the action whose earliest item expires soonest, those without a window
# last; then the oldest.
_ACTION_ORDER = (GuidedAction.expires_at.asc().nulls_last(), GuidedAction.id.asc())


def _item_open(now: datetime) -> ColumnElement[bool]:
    return and_(
        GuidedActionItem.ended_at.is_(None),
        or_(GuidedActionItem.expires_at.is_(None), GuidedActionItem.expires_at > now),
    )


def _action_open(now: datetime) -> ColumnElement[bool]:
    return and_(
        GuidedAction.ended_at.is_(None),
        exists().where(GuidedActionItem.action_id == GuidedAction.id, _item_open(now)),
    )


async def open_actions(
    session: AsyncSession,
    user_id: int,
    now: datetime,
    *,
    category: str | None = None,
    limit: int | None = None,
) -> Sequence[GuidedAction]:
    """The user's open actions, most urgent first; `category` None: every one (All)."""
    query = select(GuidedAction).where(GuidedAction.user_id == user_id, _action_open(now))
    if category is not None:
        query = query.where(GuidedAction.category == category)
    return (await session.scalars(query.order_by(*_ACTION_ORDER).limit(limit))).all()


async def count_by_category(session: AsyncSession, user_id: int, now: datetime) -> dict[str, int]:
    """How many open actions the user has in each stored category."""
    rows = await session.execute(
        select(GuidedAction.category, func.count())
        .where(GuidedAction.user_id == user_id, _action_open(now))
        .group_by(GuidedAction.category)
    )
    return {category: count for category, count in rows.tuples()}


async def get_open_action(
    session: AsyncSession, action_id: int, now: datetime
) -> GuidedAction | None:
    """The action, unless it is ended or has no open item left (then None, as for none)."""
    return await session.scalar(
        select(GuidedAction).where(GuidedAction.id == action_id, _action_open(now))
    )


async def open_items(
    session: AsyncSession,
    action_ids: Sequence[int],
    now: datetime,
    *,
    after_id: int | None = None,
    limit: int | None = None,
) -> Sequence[GuidedActionItem]:
    """The open items of the actions, by action then in queue order (oldest first)."""
    if not action_ids:
        return []
    query = select(GuidedActionItem).where(
        GuidedActionItem.action_id.in_(action_ids), _item_open(now)
    )
    if after_id is not None:
        query = query.where(GuidedActionItem.id > after_id)
    query = query.order_by(GuidedActionItem.action_id, GuidedActionItem.id).limit(limit)
    return (await session.scalars(query)).all()


async def count_open_items(
    session: AsyncSession, action_id: int, now: datetime, *, before_id: int | None = None
) -> int:
    """How many open items the action has (those ahead of `before_id` only, if given)."""
    query = select(func.count()).where(GuidedActionItem.action_id == action_id, _item_open(now))
    if before_id is not None:
        query = query.where(GuidedActionItem.id < before_id)
    return int(await session.scalar(query) or 0)


async def open_item_before(
    session: AsyncSession, action_id: int, before_id: int, now: datetime
) -> GuidedActionItem | None:
    """The open item just ahead of `before_id` in the action's queue, if any."""
    return await session.scalar(
        select(GuidedActionItem)
        .where(
            GuidedActionItem.action_id == action_id,
            GuidedActionItem.id < before_id,
            _item_open(now),
        )
        .order_by(GuidedActionItem.id.desc())
        .limit(1)
    )


async def count_done_items(session: AsyncSession, action_id: int) -> int:
    """How many of the action's items were completed (GA-6)."""
    query = select(func.count()).where(
        GuidedActionItem.action_id == action_id, GuidedActionItem.done_at.is_not(None)
    )
    return int(await session.scalar(query) or 0)


async def get_feedback(
    session: AsyncSession, action_id: int, user_id: int
) -> GuidedActionFeedback | None:
    return await session.get(GuidedActionFeedback, (action_id, user_id))


async def save_feedback(
    session: AsyncSession, action_id: int, user_id: int, useful: bool, now: datetime
) -> GuidedActionFeedback:
    """One answer per action and user (GA-8): a second one replaces the first."""
    statement = insert(GuidedActionFeedback).values(
        action_id=action_id, user_id=user_id, useful=useful, updated_at=now
    )
    saved = await session.scalar(
        statement.on_conflict_do_update(
            index_elements=["action_id", "user_id"],
            set_={"useful": statement.excluded.useful, "updated_at": statement.excluded.updated_at},
        )
        .returning(GuidedActionFeedback)
        .execution_options(populate_existing=True)
    )
    assert saved is not None
    return saved
