"""Activity batches (`POST /activities:batch`), stored set-based in one transaction.

Per activity, `services.activities.store_alone` costs about seven statements and a savepoint;
a batch of 100 cost some 900 round trips. Here the whole batch's references are read in a
few statements up front, its activities inserted by one multi-row INSERT (ON CONFLICT on
event_id, as one at a time), its calls by another, its guided evaluations and lead events
queued by one statement. Two paths stay one activity at a time, in a savepoint each:
- a `meeting` activity that makes or updates a meeting (a calendar upsert whose checks can
  refuse it once written);
- every item of a run of activities the database refused as a whole (a record deleted
  between the checks and the insert, a value it cannot store): one at a time, the refused
  item is found and reported, and the others kept.
Items are stored in their order, so activity ids follow it, and each lead's events are
queued in it.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import SessionFactory
from db.errors import domain_error
from db.models import Activity, OutboxMessage, User
from db.repositories import activities as activities_repo
from domain.errors import LeadpipeError, Unavailable
from domain.roles import EVERYONE
from services import guided_actions, outbox
from services.activities import (
    REFERENCES,
    NewActivity,
    Recorded,
    activity_row,
    deliveries,
    leads_concerned,
    reference_error,
    repeated,
    request_fingerprint,
    store_alone,
)
from services.auth import require_role
from services.engagements import makes_record, record_calls
from services.orchestrator import Orchestrator

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class BatchItem:
    recorded: Recorded | None = None
    error: LeadpipeError | None = None


async def record_batch(
    session_factory: SessionFactory,
    orchestrator: Orchestrator,
    actor: User,
    items: Sequence[NewActivity],
) -> list[BatchItem]:
    """Store the items, one result each, in order: a bad item is reported, the good ones kept.

    An item the database refuses (a record deleted meanwhile, a value it cannot store) is
    reported like one the checks refuse. An event_id twice in one batch is a repeat: the
    second answers the first's result, or IdempotencyKeyReused if its body differs. Raises
    Unavailable (the whole batch: nothing is kept) when the database itself fails.

    The deliveries owed are queued together at the end, in one statement, one message per
    lead carrying all of that lead's events in order (one signal instead of one per event),
    with the guided evaluations owed, each record once.
    """
    require_role(actor, EVERYONE, "posting activities")
    async with session_factory() as session, session.begin():
        results, messages = await store_batch(session, items)
    await outbox.deliver_committed(session_factory, orchestrator, messages)
    return results


async def store_batch(
    session: AsyncSession, items: Sequence[NewActivity]
) -> tuple[list[BatchItem], Sequence[OutboxMessage]]:
    """`record_batch` inside the caller's transaction: returns the results and the messages
    for the caller to hand to `outbox.deliver_committed` once it has committed."""
    batch = _Batch(len(items))
    await _store(session, items, batch)
    messages = await outbox.enqueue_all(
        session,
        outbox.coalesce_events(batch.owed()),
        for_relay=guided_actions.owed(batch.evaluations),
    )
    return batch.answers(), messages


@dataclass(frozen=True)
class _Checked:
    """An item whose references all exist: the leads it concerns and its fingerprint."""

    index: int
    data: NewActivity
    lead_ids: list[int]
    request: str


@dataclass
class _Batch:
    size: int
    results: list[BatchItem | None] = field(init=False)
    # Per item, the lead events it owes: queued in item order.
    owed_by_item: list[list[outbox.Owed]] = field(init=False)
    evaluations: list[guided_actions.Record] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.results = [None] * self.size
        self.owed_by_item = [[] for _ in range(self.size)]

    def answers(self) -> list[BatchItem]:
        answers = [result for result in self.results if result is not None]
        assert len(answers) == self.size  # every item is stored or refused
        return answers

    def owed(self) -> list[outbox.Owed]:
        return [o for item in self.owed_by_item for o in item]

    def refused(self, index: int, error: LeadpipeError) -> None:
        self.results[index] = BatchItem(error=error)

    def stored(
        self,
        index: int,
        recorded: Recorded,
        owed: list[outbox.Owed],
        evaluations: list[guided_actions.Record],
    ) -> None:
        self.results[index] = BatchItem(recorded=recorded)
        self.owed_by_item[index] = owed
        self.evaluations.extend(evaluations)


async def _store(session: AsyncSession, items: Sequence[NewActivity], batch: _Batch) -> None:
    """Check every item, then store them in order: runs set-based, a meeting that makes a
    meeting record alone between them."""
    run: list[_Checked] = []
    for item in await _check(session, items, batch):
        data = item.data
        if makes_record(data.type, data.meeting_record_id, data.call_record_id) == "meeting":
            await _store_run(session, run, batch)
            run = []
            await _store_alone(session, item.index, item.data, batch)
        else:
            run.append(item)
    await _store_run(session, run, batch)


async def _check(
    session: AsyncSession, items: Sequence[NewActivity], batch: _Batch
) -> list[_Checked]:
    """The items whose references exist, with the leads they concern; the others are
    refused in `batch`. At most three statements for the whole batch."""
    kinds = await activities_repo.lead_stage_kinds(
        session, {i.lead_id for i in items if i.lead_id is not None}
    )
    found = await activities_repo.existing_ids(
        session,
        {
            name: (column, {ref for i in items if (ref := getattr(i, name)) is not None})
            for name, column in REFERENCES
            if name != "lead_id"
        },
    )
    found["lead_id"] = set(kinds)
    of_contacts = await activities_repo.open_lead_ids_of_contacts(
        session, {i.contact_id for i in items if i.lead_id is None and i.contact_id is not None}
    )
    checked = []
    for index, item in enumerate(items):
        missing = {
            name
            for name, _ in REFERENCES
            if (ref := getattr(item, name)) is not None and ref not in found[name]
        }
        if (error := reference_error(item, missing)) is not None:
            batch.refused(index, error)
            continue
        of_contact = of_contacts.get(item.contact_id, []) if item.contact_id is not None else []
        kind = kinds.get(item.lead_id) if item.lead_id is not None else None
        lead_ids = leads_concerned(item, kind, of_contact)
        checked.append(_Checked(index, item, lead_ids, request_fingerprint(item)))
    return checked


async def _store_run(session: AsyncSession, run: list[_Checked], batch: _Batch) -> None:
    """Store a run of checked items set-based, in a savepoint; if the database refuses it,
    store them one at a time instead."""
    if not run:
        return
    try:
        async with session.begin_nested():
            stored = await _insert_run(session, run)
    except SQLAlchemyError as exc:
        error = domain_error(exc)
        if error is None or isinstance(error, Unavailable):
            raise
        log.info("batch run refused by the database; storing it item by item", size=len(run))
        for item in run:
            await _store_alone(session, item.index, item.data, batch)
        return
    for item, activity, is_new in stored:
        if not is_new:
            try:
                recorded = repeated(activity, item.request)
            except LeadpipeError as err:
                batch.refused(item.index, err)
                continue
            batch.stored(item.index, recorded, [], [])
            continue
        owed, evaluations = deliveries(activity, item.lead_ids)
        batch.stored(item.index, Recorded(activity, True, tuple(item.lead_ids)), owed, evaluations)


async def _insert_run(
    session: AsyncSession, run: list[_Checked]
) -> list[tuple[_Checked, Activity, bool]]:
    """Insert the run's activities (each event_id's first item; a later one is its repeat)
    and make their calls; returns each item with its stored activity and whether it is new.
    """
    first: dict[str, _Checked] = {}
    for item in run:
        first.setdefault(item.data.event_id, item)
    rows = []
    for item in first.values():
        row = activity_row(item.data, item.lead_ids, item.request)
        # Links to an existing meeting or call are written with the row, as
        # `record_engagement` would write them, meeting first.
        row["meeting_id"] = item.data.meeting_record_id
        row["call_id"] = item.data.call_record_id if item.data.meeting_record_id is None else None
        rows.append(row)
    inserted = {a.event_id: a for a in await activities_repo.insert_new(session, rows)}
    stored = {
        **inserted,
        **await activities_repo.by_event_ids(session, first.keys() - inserted.keys()),
    }
    await record_calls(
        session,
        [
            inserted[event_id]
            for event_id, item in first.items()
            if event_id in inserted
            and makes_record(item.data.type, item.data.meeting_record_id, item.data.call_record_id)
            == "call"
        ],
    )
    return [
        (
            item,
            stored[item.data.event_id],
            item.data.event_id in inserted and first[item.data.event_id] is item,
        )
        for item in run
    ]


async def _store_alone(session: AsyncSession, index: int, item: NewActivity, batch: _Batch) -> None:
    """One item in its own savepoint, checked again: what the database refuses is reported."""
    try:
        async with session.begin_nested():
            recorded, owed, evaluations = await store_alone(session, item)
    except LeadpipeError as err:
        batch.refused(index, err)
    except SQLAlchemyError as exc:
        error = domain_error(exc)
        if error is None or isinstance(error, Unavailable):
            raise
        log.info("batch item refused by the database", event_id=item.event_id)
        batch.refused(index, error)
    else:
        batch.stored(index, recorded, owed, evaluations)
