"""The workspace's feed (WS-13): the caller's own sales activity of the past year grouped by
contact (PERM-6); the summary shows its first groups. Read from PostgreSQL only.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import SalesSequence, User
from db.repositories import feed as feed_repo
from db.repositories.feed import FeedFilter
from domain.errors import Forbidden
from domain.workspace import FEED_DAYS
from services.auth import require_workspace
from services.pagination import Page, decode_position, encode_position
from services.references import require_record

FEED_GROUP_ITEMS = 10
"""Activities listed per contact in the feed, newest first."""


@dataclass(frozen=True)
class FeedGroup:
    contact: feed_repo.Group
    items: Sequence[feed_repo.Item]


@dataclass(frozen=True)
class FeedQuery:
    type: str | None = None
    sequence_id: int | None = None
    enrolled: bool | None = None


async def feed(
    session: AsyncSession,
    actor: User,
    query: FeedQuery,
    *,
    user_id: int | None = None,
    limit: int,
    cursor: str | None,
    now: datetime | None = None,
) -> Page[FeedGroup]:
    """The caller's own sales activity of the past year (older is left out), grouped by
    contact, the contact with the newest activity first; each group lists its newest
    activities (WS-13). Filters: activity type; contacts enrolled in a sequence (that one, if
    `sequence_id` is given) or, with `enrolled=False`, not enrolled.

    Raises Forbidden (role; `user_id` naming anyone but the caller, PERM-6: not even a super
    admin reads another user's feed), SeatRequired (PERM-3), InvalidInput (unknown sequence,
    a cursor this API did not hand out).
    """
    if user_id is not None and user_id != actor.id:
        raise Forbidden("the feed is always the caller's own (PERM-6); leave out user_id")
    require_workspace(actor, "reading the feed")
    async with session.begin():
        await require_record(session, SalesSequence, query.sequence_id, "sequence_id")
        return await feed_page(
            session, actor, query, limit=limit, cursor=cursor, now=now or datetime.now(UTC)
        )


async def feed_page(
    session: AsyncSession,
    actor: User,
    query: FeedQuery,
    *,
    limit: int,
    cursor: str | None,
    now: datetime,
) -> Page[FeedGroup]:
    f = FeedFilter(
        user_id=actor.id,
        since=now - timedelta(days=FEED_DAYS),
        type=query.type,
        sequence_id=query.sequence_id,
        enrolled=query.enrolled,
    )
    found = await feed_repo.groups(session, f, before=decode_position(cursor), limit=limit + 1)
    page = found[:limit]
    items: dict[int, list[feed_repo.Item]] = {g.contact_id: [] for g in page}
    for item in await feed_repo.latest(session, f, list(items), per_contact=FEED_GROUP_ITEMS):
        items[item.contact_id].append(item)
    groups = [FeedGroup(g, items[g.contact_id]) for g in page]
    more = len(found) > limit and page
    return Page(groups, encode_position(page[-1].last_at, page[-1].last_id) if more else None)
