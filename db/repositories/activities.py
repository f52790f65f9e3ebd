from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import literal, select, tuple_, union_all
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from db.models import Activity, Lead, Stage


@dataclass(frozen=True)
class ActivityFilter:
    lead_id: int | None = None
    contact_id: int | None = None
    deal_id: int | None = None
    company_id: int | None = None
    type: str | None = None
    # Who logged them: the caller's own when their activity visibility is `owned`.
    user_id: int | None = None


async def insert_once(session: AsyncSession, values: dict[str, object]) -> tuple[Activity, bool]:
    """Insert unless `event_id` exists; returns (the stored activity, whether it is new).

    ON CONFLICT makes two concurrent posts of one event agree without a unique-violation error.
    """
    inserted = await session.scalar(
        insert(Activity)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(Activity)
    )
    if inserted is not None:
        return inserted, True
    stored = await session.scalar(select(Activity).where(Activity.event_id == values["event_id"]))
    assert stored is not None
    return stored, False


async def insert_new(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> Sequence[Activity]:
    """Insert these activities (distinct event_ids, the same keys in every row) in one
    statement, leaving out those whose event_id is stored; returns the ones inserted.

    Rows are written in the order given, so ids follow it. ON CONFLICT, as in `insert_once`.
    """
    if not rows:
        return []
    statement = (
        insert(Activity).on_conflict_do_nothing(index_elements=["event_id"]).returning(Activity)
    )
    return (await session.scalars(statement, list(rows))).all()


async def by_event_ids(session: AsyncSession, event_ids: Collection[str]) -> dict[str, Activity]:
    if not event_ids:
        return {}
    found = await session.scalars(select(Activity).where(Activity.event_id.in_(event_ids)))
    return {a.event_id: a for a in found}


async def existing_ids(
    session: AsyncSession,
    references: Mapping[str, tuple[InstrumentedAttribute[int], Collection[int]]],
) -> dict[str, set[int]]:
    """Of each name's ids (name -> (primary key column, ids)), those with a record.

    One statement for all of them.
    """
    found: dict[str, set[int]] = {name: set() for name in references}
    wanted = [(name, column, ids) for name, (column, ids) in references.items() if ids]
    if not wanted:
        return found
    rows = union_all(
        *(
            select(literal(name).label("name"), column.label("id")).where(column.in_(ids))
            for name, column, ids in wanted
        )
    )
    for name, record_id in (await session.execute(select(rows.subquery()))).tuples():
        found[name].add(record_id)
    return found


async def missing_references(
    session: AsyncSession, references: Mapping[str, tuple[InstrumentedAttribute[int], int]]
) -> set[str]:
    """The names among `references` (name -> (primary key column, id)) with no such record.

    One statement for all of them.
    """
    if not references:
        return set()
    found = union_all(
        *(
            select(literal(name)).where(column == record_id)
            for name, (column, record_id) in references.items()
        )
    )
    return set(references) - set((await session.scalars(select(found.subquery()))).all())


async def lead_stage_kind(session: AsyncSession, lead_id: int) -> str | None:
    """The kind of the lead's stage; None when the lead does not exist."""
    return await session.scalar(
        select(Stage.kind).join(Lead, Lead.stage_id == Stage.id).where(Lead.id == lead_id)
    )


async def lead_stage_kinds(session: AsyncSession, lead_ids: Collection[int]) -> dict[int, str]:
    """The kind of each of these leads' stage; a lead that does not exist is left out."""
    if not lead_ids:
        return {}
    rows = await session.execute(
        select(Lead.id, Stage.kind)
        .join(Stage, Stage.id == Lead.stage_id)
        .where(Lead.id.in_(lead_ids))
    )
    return dict(rows.tuples().all())


async def open_lead_ids_of_contacts(
    session: AsyncSession, contact_ids: Collection[int]
) -> dict[int, list[int]]:
    """`open_lead_ids_of_contact` for several contacts in one statement; a contact without an
    open lead is left out."""
    if not contact_ids:
        return {}
    rows = await session.execute(
        select(Lead.contact_id, Lead.id)
        .join(Stage, Stage.id == Lead.stage_id)
        .where(Lead.contact_id.in_(contact_ids), Stage.kind == "open")
        .order_by(Lead.id)
    )
    leads: dict[int, list[int]] = defaultdict(list)
    for contact_id, lead_id in rows.tuples():
        if contact_id is not None:
            leads[contact_id].append(lead_id)
    return dict(leads)


async def open_lead_ids_of_contact(session: AsyncSession, contact_id: int) -> Sequence[int]:
    return (
        await session.scalars(
            select(Lead.id)
            .join(Stage, Stage.id == Lead.stage_id)
            .where(Lead.contact_id == contact_id, Stage.kind == "open")
            .order_by(Lead.id)
        )
    ).all()


async def list_activities(
    session: AsyncSession,
    f: ActivityFilter,
    *,
    before: tuple[datetime, int] | None,
    limit: int,
) -> Sequence[Activity]:
    """Newest first by (occurred_at, id); `before` is that pair of the previous page's last
    row. Each record filter has an index on (column, occurred_at, id) for this order."""
    query = select(Activity).order_by(Activity.occurred_at.desc(), Activity.id.desc()).limit(limit)
    for column, value in (
        (Activity.lead_id, f.lead_id),
        (Activity.contact_id, f.contact_id),
        (Activity.deal_id, f.deal_id),
        (Activity.company_id, f.company_id),
        (Activity.type, f.type),
        (Activity.user_id, f.user_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if before is not None:
        at, last_id = before
        query = query.where(tuple_(Activity.occurred_at, Activity.id) < tuple_(at, last_id))
    return (await session.scalars(query)).all()
