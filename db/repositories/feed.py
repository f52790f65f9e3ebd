"""The workspace feed's reads: one user's activities of a period, grouped by contact (WS-13).

A group is a contact, placed by its newest activity in the filter, so walking the user's
activities newest first meets the groups in order: each contact's first appearance is its
group. `groups` does that walk in the database (a recursive query, one index probe per group
on ix_activities_user_time, which holds each activity's contact and type, so the walk reads
that index alone) and stops once the page is full, however long the user's year is. A later
page starts below the previous page's last group and skips contacts with newer activity, the
groups already shown.

The items of a page's groups come from ix_activities_contact_time, newest first, a few per
contact.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Integer, bindparam, func, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Activity


@dataclass(frozen=True)
class FeedFilter:
    user_id: int
    since: datetime
    type: str | None = None
    # Contacts enrolled in this sequence (or, with enrolled=False, not enrolled in it).
    sequence_id: int | None = None
    # True: contacts enrolled in a sequence (that one, if named); False: not enrolled.
    enrolled: bool | None = None


@dataclass(frozen=True)
class Group:
    """A contact of the feed, and the (occurred_at, id) of its newest activity there."""

    contact_id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    company_id: int | None
    is_target_account: bool
    last_at: datetime
    last_id: int

    @property
    def name(self) -> str:
        full = " ".join(p for p in (self.first_name, self.last_name) if p)
        return full or self.email or f"Contact {self.contact_id}"


@dataclass(frozen=True)
class Item:
    id: int
    contact_id: int
    type: str
    occurred_at: datetime
    details: dict[str, Any]


def _where(f: FeedFilter, alias: str, *, after_cursor: bool) -> str:
    """The filter on activities `alias` as SQL, from fixed fragments and bound parameters."""
    parts = [
        f"{alias}.user_id = :user_id",
        f"{alias}.occurred_at >= :since",
        f"{alias}.contact_id IS NOT NULL",
    ]
    if f.type is not None:
        parts.append(f"{alias}.type = :type")
    if f.sequence_id is not None or f.enrolled is not None:
        enrolled = "SELECT e.contact_id FROM sequence_enrollments e"
        if f.sequence_id is not None:
            enrolled += " WHERE e.sequence_id = :sequence_id"
        negated = "NOT " if f.enrolled is False else ""
        parts.append(f"{alias}.contact_id {negated}IN ({enrolled})")
    if after_cursor:
        # A contact with activity at or above the cursor (the last group shown) had its
        # group on an earlier page.
        newer = _where(f, "b", after_cursor=False)
        parts.append(
            f"NOT EXISTS (SELECT 1 FROM activities b WHERE {newer} "
            f"AND b.contact_id = {alias}.contact_id "
            "AND (b.occurred_at, b.id) >= (:cursor_at, :cursor_id))"
        )
    return " AND ".join(parts)


async def groups(
    session: AsyncSession,
    f: FeedFilter,
    *,
    before: tuple[datetime, int] | None,
    limit: int,
) -> Sequence[Group]:
    """Up to `limit` contacts with activity in the filter, newest group first, each with its
    name fields and whether its company is a target account. `before` is the
    (last_at, last_id) of the previous page's last group."""
    cursor = before is not None
    where = _where(f, "a", after_cursor=cursor)
    below = "AND (a.occurred_at, a.id) < (:cursor_at, :cursor_id)" if cursor else ""
    statement = text(
        f"""
        WITH RECURSIVE page(contact_id, occurred_at, id, seen, n) AS (
            (SELECT a.contact_id, a.occurred_at, a.id, ARRAY[a.contact_id], 1
             FROM activities a
             WHERE {where} {below}
             ORDER BY a.occurred_at DESC, a.id DESC
             LIMIT 1)
            UNION ALL
            SELECT found.contact_id, found.occurred_at, found.id,
                   page.seen || found.contact_id, page.n + 1
            FROM page CROSS JOIN LATERAL (
                SELECT a.contact_id, a.occurred_at, a.id
                FROM activities a
                WHERE {where}
                  AND (a.occurred_at, a.id) < (page.occurred_at, page.id)
                  AND a.contact_id <> ALL (page.seen)
                ORDER BY a.occurred_at DESC, a.id DESC
                LIMIT 1
            ) found
            WHERE page.n < :limit
        )
        SELECT page.contact_id, c.first_name, c.last_name, c.email, c.company_id,
               coalesce(co.is_target_account, false), page.occurred_at, page.id
        FROM page
        JOIN contacts c ON c.id = page.contact_id
        LEFT JOIN companies co ON co.id = c.company_id
        ORDER BY page.n
        """
    )
    params: dict[str, Any] = {"user_id": f.user_id, "since": f.since, "limit": limit}
    if f.type is not None:
        params["type"] = f.type
    if f.sequence_id is not None:
        params["sequence_id"] = f.sequence_id
    if before is not None:
        params["cursor_at"], params["cursor_id"] = before
    rows = await session.execute(statement, params)
    return [Group(*row) for row in rows.all()]


async def latest(
    session: AsyncSession, f: FeedFilter, contact_ids: Sequence[int], *, per_contact: int
) -> Sequence[Item]:
    """The newest `per_contact` activities in the filter of each contact, newest first."""
    if not contact_ids:
        return []
    wanted = (
        func.unnest(bindparam("contact_ids", list(contact_ids), type_=ARRAY(Integer)))
        .table_valued("contact_id")
        .render_derived()
    )
    conditions = [
        Activity.contact_id == wanted.c.contact_id,
        Activity.user_id == f.user_id,
        Activity.occurred_at >= f.since,
    ]
    if f.type is not None:
        conditions.append(Activity.type == f.type)
    # The enrollment filter chose the contacts already: each group lists its activities.
    newest = (
        select(
            Activity.id, Activity.contact_id, Activity.type, Activity.occurred_at, Activity.details
        )
        .where(*conditions)
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        .limit(per_contact)
        .lateral("newest")
    )
    rows = await session.execute(
        select(newest)
        .select_from(wanted)
        .join(newest, true())
        .order_by(newest.c.occurred_at.desc(), newest.c.id.desc())
    )
    return [Item(*row) for row in rows.all()]
