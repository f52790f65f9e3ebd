"""Guided actions and their items: the write side (services/guided_actions.py)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import GuidedAction, GuidedActionItem

# Why an item ended: its window ran out, its criteria failed, it was done, or its record went
# to another user.
EXPIRED = "expired"
CRITERIA_FAILED = "criteria_failed"
DONE = "done"
REASSIGNED = "reassigned"
# Past items ended so keep the same one from coming straight back (domain.guided.rearms).
BLOCKING_REASONS = (EXPIRED, DONE)


@dataclass(frozen=True)
class ItemRow:
    """An item of one record with its action's type and user."""

    item: GuidedActionItem
    type: str
    user_id: int

    @property
    def is_open(self) -> bool:
        return self.item.ended_at is None


async def items_of_record(session: AsyncSession, kind: str, object_id: int) -> list[ItemRow]:
    """The record's open items and the past ones that may still block a new one (ended by
    window or done, not yet rearmed), locked: one evaluation of a record at a time."""
    item = GuidedActionItem
    query = (
        select(item, GuidedAction.type, GuidedAction.user_id)
        .join(GuidedAction, GuidedAction.id == item.action_id)
        .where(item.object == kind, item.object_id == object_id)
        .where(
            item.ended_at.is_(None)
            | (
                item.ended_at.is_not(None)
                & item.end_reason.in_(BLOCKING_REASONS)
                & item.rearmed_at.is_(None)
            )
        )
        .order_by(item.id)
        .with_for_update(of=item)
    )
    rows = await session.execute(query)
    return [ItemRow(i, t, u) for i, t, u in rows.tuples()]


async def lock_open_action(
    session: AsyncSession, user_id: int, guided_type: str, category: str, now: datetime
) -> GuidedAction:
    """The user's open action of this type, created if there is none (GA-3), locked so that
    items join or leave it one transaction at a time.

    Another transaction may end the action between the insert and the lock (its last item
    went): the locked read then finds none, and this one creates the next.
    """
    while True:
        await session.execute(
            insert(GuidedAction)
            .values(user_id=user_id, type=guided_type, category=category, created_at=now)
            .on_conflict_do_nothing(
                index_elements=["user_id", "type"], index_where=text("ended_at IS NULL")
            )
        )
        action = await session.scalar(
            select(GuidedAction)
            .where(
                GuidedAction.user_id == user_id,
                GuidedAction.type == guided_type,
                GuidedAction.ended_at.is_(None),
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if action is not None:
            return action


async def lock_action(session: AsyncSession, action_id: int) -> GuidedAction | None:
    return await session.scalar(
        select(GuidedAction)
        .where(GuidedAction.id == action_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def add_item(session: AsyncSession, values: dict[str, Any]) -> GuidedActionItem:
    item = GuidedActionItem(**values)
    session.add(item)
    await session.flush()
    return item


async def open_item_expiries(session: AsyncSession, action_id: int) -> Sequence[datetime | None]:
    """The expiry of each open item of the action (empty: none is open)."""
    rows = await session.scalars(
        select(GuidedActionItem.expires_at).where(
            GuidedActionItem.action_id == action_id, GuidedActionItem.ended_at.is_(None)
        )
    )
    return rows.all()


async def open_item_for_user(
    session: AsyncSession, action_id: int, kind: str, object_id: int, user_id: int
) -> GuidedActionItem | None:
    """The open item of this record in the user's open action, locked."""
    return await session.scalar(
        select(GuidedActionItem)
        .join(GuidedAction, GuidedAction.id == GuidedActionItem.action_id)
        .where(
            GuidedActionItem.action_id == action_id,
            GuidedActionItem.object == kind,
            GuidedActionItem.object_id == object_id,
            GuidedActionItem.ended_at.is_(None),
            GuidedAction.user_id == user_id,
            GuidedAction.ended_at.is_(None),
        )
        .with_for_update(of=GuidedActionItem)
    )


async def rearm(session: AsyncSession, item_ids: Sequence[int], now: datetime) -> None:
    if item_ids:
        await session.execute(
            update(GuidedActionItem).where(GuidedActionItem.id.in_(item_ids)).values(rearmed_at=now)
        )


# Per record kind: its display name, and the ids of the records it is associated with, by
# association (GA-4), in one query each.
_DESCRIBE = {
    "contact": """
        SELECT coalesce(nullif(trim(concat_ws(' ', c.first_name, c.last_name)), ''), c.email,
                        'Contact ' || c.id) AS name,
          ARRAY[]::int[] AS contacts,
          array_remove(ARRAY[c.company_id], NULL) AS companies,
          ARRAY(SELECT d.id FROM deals d WHERE d.contact_id = c.id ORDER BY d.id) AS deals,
          ARRAY(SELECT l.id FROM leads l WHERE l.contact_id = c.id ORDER BY l.id) AS leads
        FROM contacts c WHERE c.id = :id""",
    "lead": """
        SELECT l.name, array_remove(ARRAY[l.contact_id], NULL) AS contacts,
          array_remove(ARRAY[l.company_id], NULL) AS companies,
          array_remove(ARRAY[l.deal_id], NULL) AS deals, ARRAY[]::int[] AS leads
        FROM leads l WHERE l.id = :id""",
    "meeting": """
        SELECT m.title AS name,
          ARRAY(SELECT mc.contact_id FROM meeting_contacts mc WHERE mc.meeting_id = m.id
                ORDER BY mc.contact_id) AS contacts,
          array_remove(ARRAY[m.company_id], NULL) AS companies,
          array_remove(ARRAY[m.deal_id], NULL) AS deals,
          array_remove(ARRAY[m.lead_id], NULL) AS leads
        FROM meetings m WHERE m.id = :id""",
    "call": """
        SELECT coalesce('Call with ' || coalesce(
                 nullif(trim(concat_ws(' ', ct.first_name, ct.last_name)), ''), ct.email),
               'Call ' || c.id) AS name,
          array_remove(ARRAY[c.contact_id], NULL) AS contacts,
          array_remove(ARRAY[c.company_id], NULL) AS companies,
          array_remove(ARRAY[c.deal_id], NULL) AS deals,
          array_remove(ARRAY[c.lead_id], NULL) AS leads
        FROM calls c LEFT JOIN contacts ct ON ct.id = c.contact_id WHERE c.id = :id""",
    "task": """
        SELECT t.title AS name, array_remove(ARRAY[t.contact_id], NULL) AS contacts,
          array_remove(ARRAY[t.company_id], NULL) AS companies,
          array_remove(ARRAY[t.deal_id], NULL) AS deals,
          array_remove(ARRAY[t.lead_id], NULL) AS leads
        FROM tasks t WHERE t.id = :id""",
    "deal": """
        SELECT d.name, array_remove(ARRAY[d.contact_id], NULL) AS contacts,
          array_remove(ARRAY[d.company_id], NULL) AS companies, ARRAY[]::int[] AS deals,
          array_remove(ARRAY[d.lead_id], NULL) AS leads
        FROM deals d WHERE d.id = :id""",
}

_NAMES = {
    "contacts": "SELECT c.id, coalesce(nullif(trim(concat_ws(' ', c.first_name, c.last_name)),"
    " ''), c.email, 'Contact ' || c.id) FROM contacts c WHERE c.id = ANY(:ids)",
    "companies": "SELECT id, name FROM companies WHERE id = ANY(:ids)",
    "deals": "SELECT id, name FROM deals WHERE id = ANY(:ids)",
    "leads": "SELECT id, name FROM leads WHERE id = ANY(:ids)",
}


async def describe(
    session: AsyncSession, kind: str, object_id: int
) -> tuple[str, dict[str, list[dict[str, Any]]]] | None:
    """The record's name and its associations now, `{"contacts": [{"id", "name"}],
    "companies": [...], "deals": [...], "leads": [...]}`; None when it is gone."""
    row = (await session.execute(text(_DESCRIBE[kind]), {"id": object_id})).mappings().first()
    if row is None:
        return None
    associations: dict[str, list[dict[str, Any]]] = {}
    for association, sql in _NAMES.items():
        ids: list[int] = list(row[association] or [])
        names: dict[int, str] = {}
        if ids:
            names = dict((await session.execute(text(sql), {"ids": ids})).tuples().all())
        associations[association] = [{"id": i, "name": names[i]} for i in ids if i in names]
    return str(row["name"]), associations
