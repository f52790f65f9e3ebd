"""Guided actions, the write side: evaluate a record's types and create, fill or end the
actions and items they call for (GA-1..GA-4), mark an item done, and owe a record's
re-evaluation after a change.

Evaluation runs in the record's guided workflow (workflows/guided_object.py), never in the
request that changed the record: the request only owes the evaluation (an outbox row in its
own transaction, relayed as a signal-with-start), so a crash between the commit and the
signal loses nothing and the API path costs one insert.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import GuidedAction, GuidedActionItem, Task
from db.repositories import guided_actions as repo
from db.repositories import guided_facts as facts
from domain.guided import (
    TYPES,
    GuidedType,
    ObjectKind,
    Snapshot,
    TaskSnapshot,
    evaluate,
    may_be_listed,
    types_for,
)
from domain.guided_evaluation import guided_workflow_id
from services import outbox

# Each kind's snapshot, read from the stored records.
_LOADERS = {
    ObjectKind.CONTACT: facts.contact,
    ObjectKind.LEAD: facts.lead,
    ObjectKind.MEETING: facts.meeting,
    ObjectKind.CALL: facts.call,
    ObjectKind.TASK: facts.task,
    ObjectKind.DEAL: facts.deal,
}

Record = tuple[ObjectKind, int]


@dataclass(frozen=True)
class Evaluation:
    # The earliest instant at which time alone may change a verdict; None: only data can.
    wake_at: datetime | None
    # The type (and what) that instant is for, for the timer's summary.
    wake_reason: str
    open_items: int


def owed(records: Iterable[tuple[ObjectKind, int | None]]) -> list[outbox.Owed]:
    """The outbox messages that re-evaluate these records (None ids skipped, each once)."""
    seen = dict.fromkeys((kind, rid) for kind, rid in records if rid is not None)
    return [
        outbox.Owed(
            outbox.EVALUATE_GUIDED,
            guided_workflow_id(kind, rid),
            {"object": kind.value, "object_id": rid},
        )
        for kind, rid in seen
    ]


async def enqueue_evaluation(
    session: AsyncSession, records: Iterable[tuple[ObjectKind, int | None]]
) -> None:
    """Owe these records' re-evaluation, inside the caller's transaction: the worker's relay
    delivers it once the record has been left alone for `guided_settle_seconds`."""
    await outbox.enqueue_for_relay(session, owed(records))


async def enqueue_new_task(session: AsyncSession, task: Task) -> None:
    """Owe a new task's evaluation, inside the caller's transaction.

    A task no type may list (most: neither in a sequence nor high priority and due) has no
    item and would get none, so its evaluation would only cascade to the meetings it may
    follow up (GA-16); those are owed theirs here instead, and the task starts no workflow.
    """
    snapshot = TaskSnapshot(
        task_id=task.id,
        owner_id=task.owner_id,
        status=task.status,
        completed_at=task.completed_at,
        priority=task.priority,
        due_at=task.due_at,
        sequence_id=task.sequence_id,
    )
    if may_be_listed(snapshot):
        await enqueue_evaluation(session, [(ObjectKind.TASK, task.id)])
        return
    meetings = await facts.meetings_followed_up(session, task.id)
    await enqueue_evaluation(session, [(ObjectKind.MEETING, i) for i in meetings])


async def evaluate_object(
    session: AsyncSession, kind: ObjectKind, object_id: int, now: datetime
) -> datetime | None:
    """Evaluate every type that lists records of `kind` on this record at `now`, in one
    transaction: create items (gathered under one action per user and type, GA-3), end the
    ones whose verdict no longer holds, end actions left without an open item. Returns the
    earliest instant at which time alone may change a verdict."""
    return (await evaluate_record(session, kind, object_id, now)).wake_at


async def evaluate_record(
    session: AsyncSession, kind: ObjectKind, object_id: int, now: datetime, *, cascade: bool = False
) -> Evaluation:
    """`evaluate_object` with the reason for the wake-up and the open items left. With
    `cascade` (the record itself changed), also owes the re-evaluation of the records whose
    facts read this one."""
    async with session.begin():
        snapshot = await _LOADERS[kind](session, object_id)
        rows = await repo.items_of_record(session, kind.value, object_id)
        wake_at: datetime | None = None
        wake_reason = ""
        open_items = 0
        for guided_type in types_for(kind):
            mine = [r for r in rows if r.type == guided_type.value]
            wake, is_open = await _apply(session, guided_type, kind, object_id, snapshot, mine, now)
            open_items += is_open
            if wake is not None and wake > now and (wake_at is None or wake < wake_at):
                wake_at, wake_reason = wake, TYPES[guided_type].title
        if cascade:
            await enqueue_evaluation(session, await _dependents(session, kind, object_id))
    return Evaluation(wake_at, wake_reason, open_items)


async def _apply(
    session: AsyncSession,
    guided_type: GuidedType,
    kind: ObjectKind,
    object_id: int,
    snapshot: Snapshot | None,
    rows: Sequence[repo.ItemRow],
    now: datetime,
) -> tuple[datetime | None, bool]:
    """One type on one record: returns the instant to look again and whether an item of it
    is open afterwards."""
    open_rows = [r for r in rows if r.is_open]
    if snapshot is None:  # the record is gone
        for r in open_rows:
            await _end_item(session, r.item, repo.CRITERIA_FAILED, now)
        return None, False
    fresh = evaluate(guided_type, snapshot, now, None)
    wake = fresh.wake_at
    is_open = False
    blocking = [r.item for r in rows if not r.is_open and r.user_id == fresh.user_id]
    for r in open_rows:
        kept = evaluate(guided_type, snapshot, now, r.item.created_at)
        if kept.holds and kept.user_id == r.user_id and not is_open:
            is_open = True
            wake = _earliest(kept.wake_at, kept.expires_at)
            if kept.expires_at != r.item.expires_at:
                r.item.expires_at = kept.expires_at
                await _refresh_expiry(session, r.item.action_id)
            continue
        if fresh.user_id != r.user_id:
            reason = repo.REASSIGNED
        elif r.item.expires_at is not None and r.item.expires_at <= now:
            reason = repo.EXPIRED
            blocking.append(r.item)  # ran out: it must not come straight back
        else:
            reason = repo.CRITERIA_FAILED
        await _end_item(session, r.item, reason, now)
    if is_open or fresh.user_id is None:
        return wake, is_open
    if blocking:
        if not fresh.holds:  # domain.guided.rearms: the situation the item was about is over
            await repo.rearm(session, [i.id for i in blocking], now)
            return wake, False
        # Still the same situation: no new item; look again when its window would end.
        latest = max(blocking, key=lambda i: i.id)
        return evaluate(guided_type, snapshot, now, latest.created_at).wake_at, False
    if not fresh.holds:
        return wake, False
    described = await repo.describe(session, kind.value, object_id)
    if described is None:
        return None, False
    name, associations = described
    info = TYPES[guided_type]
    action = await repo.lock_open_action(
        session, fresh.user_id, guided_type.value, info.category.value, now
    )
    await repo.add_item(
        session,
        {
            "action_id": action.id,
            "object": kind.value,
            "object_id": object_id,
            "name": name[:300],
            "associations": associations,
            "created_at": now,
            "expires_at": fresh.expires_at,
        },
    )
    _set_expiry(action, await repo.open_item_expiries(session, action.id))
    return _earliest(fresh.wake_at, fresh.expires_at), True


def _earliest(*instants: datetime | None) -> datetime | None:
    return min((i for i in instants if i is not None), default=None)


def _set_expiry(action: GuidedAction, expiries: Sequence[datetime | None]) -> None:
    """An action expires with its earliest open item (API `expires_at`)."""
    action.expires_at = _earliest(*expiries)


async def _refresh_expiry(session: AsyncSession, action_id: int) -> None:
    action = await repo.lock_action(session, action_id)
    if action is not None and action.ended_at is None:
        await session.flush()
        _set_expiry(action, await repo.open_item_expiries(session, action_id))


async def _end_item(
    session: AsyncSession, item: GuidedActionItem, reason: str, now: datetime
) -> None:
    """End the item; an action left without an open item ends with it (GA-2)."""
    action = await repo.lock_action(session, item.action_id)
    item.ended_at = now
    item.end_reason = reason
    if reason == repo.DONE:
        item.done_at = now
    await session.flush()
    if action is None or action.ended_at is not None:
        return
    expiries = await repo.open_item_expiries(session, action.id)
    if not expiries:
        action.ended_at = now
        action.end_reason = reason
    else:
        _set_expiry(action, expiries)


async def complete_item(
    session: AsyncSession, action_id: int, object: str, object_id: int, user_id: int
) -> bool:
    """Mark the user's open item of this record in this action done (GA-6), ending the action
    with its last item, and owe the record's re-evaluation, which cancels the item's timer.
    False when the user has no such open item. Opens its own transaction."""
    try:
        kind = ObjectKind(object)
    except ValueError:
        return False
    async with session.begin():
        item = await repo.open_item_for_user(session, action_id, kind.value, object_id, user_id)
        if item is None:
            return False
        await _end_item(session, item, repo.DONE, datetime.now(UTC))
        await enqueue_evaluation(session, [(kind, object_id)])
    return True


async def _dependents(session: AsyncSession, kind: ObjectKind, object_id: int) -> list[Record]:
    """The records whose guided-action facts read this one (domain/guided/snapshots.py): a
    contact's open deals (GA-19, GA-28 read its emails); a lead's and a deal's contact (GA-10,
    GA-12, GA-18 read its leads and deals); a task's meetings (GA-16 counts follow-ups)."""
    if kind == ObjectKind.CONTACT:
        ids = await facts.open_deal_ids_of_contact(session, object_id)
        return [(ObjectKind.DEAL, i) for i in ids]
    if kind in (ObjectKind.LEAD, ObjectKind.DEAL):
        contact_id = await facts.contact_of(session, kind.value, object_id)
        return [(ObjectKind.CONTACT, contact_id)] if contact_id is not None else []
    if kind == ObjectKind.TASK:
        return [
            (ObjectKind.MEETING, i) for i in await facts.meetings_followed_up(session, object_id)
        ]
    return []
