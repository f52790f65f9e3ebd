"""The workspace feed's reads: one user's activities of a period, grouped by contact (WS-13).

Groups come from ix_activities_user_time, which holds each activity's contact and type as
well, so grouping a busy user's year reads that index alone; the items of a page's groups
come from ix_activities_contact_time, newest first, a few per contact.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ARRAY, ColumnElement, Integer, bindparam, func, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import Activity, Company, Contact, SequenceEnrollment


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
class GroupKey:
    """A group: a contact, placed by its newest activity in the filter."""

    contact_id: int
    last_at: datetime


@dataclass(frozen=True)
class FeedContact:
    contact: Contact
    is_target_account: bool


def _conditions(f: FeedFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Activity.user_id == f.user_id,
        Activity.occurred_at >= f.since,
        Activity.contact_id.is_not(None),
    ]
    if f.type is not None:
        conditions.append(Activity.type == f.type)
    if f.sequence_id is not None or f.enrolled is not None:
        enrolled = select(SequenceEnrollment.contact_id)
        if f.sequence_id is not None:
            enrolled = enrolled.where(SequenceEnrollment.sequence_id == f.sequence_id)
        if f.enrolled is False:
            conditions.append(Activity.contact_id.not_in(enrolled))
        else:
            conditions.append(Activity.contact_id.in_(enrolled))
    return conditions


async def groups(
    session: AsyncSession,
    f: FeedFilter,
    *,
    before: tuple[datetime, int] | None,
    limit: int,
) -> Sequence[GroupKey]:
    """Contacts with activity in the filter, newest group first (by their newest activity,
    then contact id); `before` is the (last_at, contact_id) of the previous page's last."""
    last_at = func.max(Activity.occurred_at)
    query = (
        select(Activity.contact_id, last_at)
        .where(*_conditions(f))
        .group_by(Activity.contact_id)
        .order_by(last_at.desc(), Activity.contact_id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.having(tuple_(last_at, Activity.contact_id) < tuple_(*before))
    rows = await session.execute(query)
    # Grouped on contacts that are not NULL, so every contact_id is an id.
    return [GroupKey(contact_id or 0, at) for contact_id, at in rows.all()]


async def latest(
    session: AsyncSession, f: FeedFilter, contact_ids: Sequence[int], *, per_contact: int
) -> Sequence[Activity]:
    """The newest `per_contact` activities in the filter of each contact, newest first."""
    if not contact_ids:
        return []
    wanted = (
        func.unnest(bindparam("contact_ids", list(contact_ids), type_=ARRAY(Integer)))
        .table_valued("contact_id")
        .render_derived()
    )
    newest = (
        select(Activity)
        .where(Activity.contact_id == wanted.c.contact_id, *_conditions(f))
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        .limit(per_contact)
        .lateral("newest")
    )
    activity = aliased(Activity, newest)
    query = (
        select(activity)
        .select_from(wanted)
        .join(newest, true())
        .order_by(activity.occurred_at.desc(), activity.id.desc())
    )
    return (await session.scalars(query)).all()


async def contacts(session: AsyncSession, contact_ids: Sequence[int]) -> dict[int, FeedContact]:
    """The contacts by id, each with whether its company is a target account."""
    if not contact_ids:
        return {}
    rows = await session.execute(
        select(Contact, func.coalesce(Company.is_target_account, False))
        .outerjoin(Company, Company.id == Contact.company_id)
        .where(Contact.id.in_(contact_ids))
    )
    return {c.id: FeedContact(c, bool(target)) for c, target in rows.all()}
