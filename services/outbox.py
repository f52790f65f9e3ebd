"""Temporal calls owed after a commit, relayed at least once (the workflow side is idempotent).

Who delivers a message: the process that committed it tries at once (the fast path), bounded
by FAST_PATH_SECONDS; the relay leaves a message alone for RELAY_AFTER_SECONDS after its row
was written, unless the fast path has already given it up (attempts > 0). So the relay never
races a delivery still under way, and a message reaches its workflow twice only when a
process dies, or a call times out, between the signal and the delete.

Each workflow's messages arrive in the order they were accepted: a message whose workflow
already has an undelivered one is handed to the relay at once instead of the fast path, and
the relay delivers a workflow's messages oldest first, none past one that failed or that
another relay holds. Two requests for one lead committed at the same moment are not ordered
between them; the lead workflow places events by their time (domain.progression).

Guided-action evaluations owed to one workflow in a row go as one delivery (`deliveries`): the
workflow only learns that its record changed and reads the record itself, so one signal sent
after all of them were committed stands for them all.
"""

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.service import RPCError

from db.engine import SessionFactory, use_autocommit
from db.models import OutboxMessage
from db.repositories import leads as leads_repo
from db.repositories import outbox as outbox_repo
from domain.activities import LeadEvent
from domain.errors import LeadpipeError, Unavailable
from domain.guided import ObjectKind
from domain.leads import WORKFLOW_ID_PREFIX
from services.orchestrator import Orchestrator

log = structlog.get_logger(__name__)

START_LEAD = "start_lead"
LEAD_EVENT = "lead_event"
# Several events for one lead, in order, delivered as one signal (a batch of activities).
LEAD_EVENTS = "lead_events"
# The lead or its configuration changed outside its workflow (a lead edit, the default
# pipeline, a label): a running workflow reloads it.
REFRESH_LEAD = "refresh_lead"
# Why a refresh has no fast-path attempt: it goes to the relay at once.
REFRESH_NOTE = "configuration refresh: delivered by the relay"
# A record that guided actions read changed: its guided workflow evaluates it again
# (signal-with-start of `guided-<object>-<id>`, services/guided_actions.py).
EVALUATE_GUIDED = "evaluate_guided"
# Why an evaluation owed by a request that delivers nothing itself has no fast-path attempt.
EVALUATION_NOTE = "guided-action evaluation: delivered by the relay"

# The fast path's whole budget after a commit; what is not delivered by then is the relay's.
FAST_PATH_SECONDS = 5.0
# Must exceed FAST_PATH_SECONDS plus the fast path's cleanup statement, or the relay would
# deliver messages the committing process is still delivering.
RELAY_AFTER_SECONDS = 10.0
# One relay pass holds its rows locked; bounded so a slow server cannot hold them for long.
RELAY_PASS_SECONDS = 30.0
# Workflows signalled at once; one workflow's messages go one after another, in order.
CONCURRENT_WORKFLOWS = 16
# Every kind, for reports that show each one even when none is owed.
KINDS = (START_LEAD, LEAD_EVENT, LEAD_EVENTS, REFRESH_LEAD, EVALUATE_GUIDED)
# Kinds whose messages to one workflow, one after another with the same payload, say the
# same thing: one delivery of the first stands for them all (`deliveries`).
COALESCED_KINDS = frozenset({EVALUATE_GUIDED})
# A record owed evaluations over and over (a lead being worked) is evaluated at most this long
# after the first of them, however long they keep coming (`relay`'s `settle_seconds`).
SETTLE_MAX_SECONDS = 30.0


@dataclass(frozen=True)
class Owed:
    """A message not yet queued: `enqueue_all` writes many in one statement."""

    kind: str
    workflow_id: str
    payload: dict[str, Any]


async def enqueue(
    session: AsyncSession, kind: str, workflow_id: str, payload: dict[str, Any]
) -> OutboxMessage:
    """Add a message inside the caller's transaction."""
    return await outbox_repo.add(
        session, OutboxMessage(kind=kind, workflow_id=workflow_id, payload=payload)
    )


async def backlog(session: AsyncSession) -> list[outbox_repo.Backlog]:
    """The undelivered messages of every kind (none owed: 0) and the age of each one's oldest:
    a relay that falls behind, or a workflow that refuses its messages, shows here."""
    found = {b.kind: b for b in await outbox_repo.backlog(session)}
    known = [found.pop(kind, outbox_repo.Backlog(kind, 0, 0.0)) for kind in KINDS]
    return known + list(found.values())


def coalesce_events(owed: Sequence[Owed]) -> list[Owed]:
    """One LEAD_EVENTS message per lead for the lead events owed to it, its events in order,
    where the first of them stood; a lead owed one event keeps its LEAD_EVENT message.

    One signal and one workflow task for a lead's share of a batch, instead of one each per
    event; the workflow applies them one by one as before.
    """
    events: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for o in owed:
        if o.kind == LEAD_EVENT:
            events[o.workflow_id].append(o.payload["event"])
    merged: list[Owed] = []
    merged_leads: set[str] = set()
    for o in owed:
        if o.kind != LEAD_EVENT or len(events[o.workflow_id]) == 1:
            merged.append(o)
        elif o.workflow_id not in merged_leads:
            merged_leads.add(o.workflow_id)
            lead = {"lead_id": o.payload["lead_id"], "events": events[o.workflow_id]}
            merged.append(Owed(LEAD_EVENTS, o.workflow_id, lead))
    return merged


# Why a message was handed to the relay without a try (counted as the fast path's attempt).
BEHIND_OLDER = "queued behind an older undelivered message of this workflow"


async def enqueue_all(
    session: AsyncSession, owed: Sequence[Owed], *, for_relay: Sequence[Owed] = ()
) -> Sequence[OutboxMessage]:
    """Add these messages inside the caller's transaction, in one statement; returns those for
    the caller to deliver after its commit (`deliver_committed`). The messages `for_relay`
    go in the same statement, left to the relay (`enqueue_for_relay`).

    A message whose workflow has an older undelivered message goes straight to the relay,
    so that it cannot overtake that one: one indexed query for the whole batch.
    """
    waiting = await outbox_repo.workflows_waiting(session, {o.workflow_id for o in owed})
    rows = [_row(o, BEHIND_OLDER if o.workflow_id in waiting else None) for o in owed]
    rows += [_row(o, EVALUATION_NOTE) for o in for_relay]
    # Those counted as tried are the relay's.
    return [m for m in await outbox_repo.add_all(session, rows) if m.attempts == 0]


def _row(owed: Owed, relay_note: str | None) -> dict[str, Any]:
    """The outbox row of a message; with `relay_note`, counted as tried once, so the relay
    takes it at its next pass and the note says why."""
    return {
        "kind": owed.kind,
        "workflow_id": owed.workflow_id,
        "payload": owed.payload,
        "attempts": 0 if relay_note is None else 1,
        "last_error": relay_note,
    }


async def enqueue_for_relay(session: AsyncSession, owed: Sequence[Owed]) -> None:
    """Add these messages inside the caller's transaction, in one statement, for the relay to
    deliver at its next pass (within about OUTBOX_POLL_SECONDS of the worker): for use cases
    that deliver nothing themselves after their commit."""
    await outbox_repo.add_all(session, [_row(o, EVALUATION_NOTE) for o in owed])


async def enqueue_refresh(
    session: AsyncSession, *, pipeline_ids: Sequence[int] = (), stage_ids: Sequence[int] = ()
) -> int:
    """Owe a `refresh` signal to the workflow of every open lead in these pipelines or stages,
    inside the caller's transaction (the change they must learn about); returns how many.

    A running LeadWorkflow keeps a snapshot of its lead: the pipeline's default flag, the
    pipeline and stage labels (its `LeadPipeline`/`LeadStage` search attributes), the stage
    kind. Progression rules are not cached: they are read per batch of events. A change to
    what is cached must reach every lead it concerns, and only a push reaches a lead that
    sees no event, whose search attributes operators still filter on. So: one outbox row per
    lead, written by one INSERT ... SELECT in the change's own transaction (a crash loses
    none, and nothing is read into the process however many leads there are), relayed by
    the workers' outbox relay like any other message (at least once, in order per lead; a
    refresh is idempotent). The request that made the change does not wait for the signals.

    Measured on the test stack (2 busy shared cores, one worker): the insert takes 40-60 ms
    for 10,000 leads; the relay signals about 1,000 workflows a second; 300 running leads
    showed a renamed stage in `LeadStage` within 10 s, the pace set by each workflow's
    reload (a workflow task and an activity), which more workers share. A batch operation
    over visibility (signal every workflow with `LeadStage = 'old'`) was set aside: visibility
    is eventually consistent, so a lead just started or just moved would be missed with
    nothing to retry it.

    The push alone is not exact for automation: an event can overtake the refresh (another
    process's fast path, or a relay backlog after a big change). So the workflow also reads
    the default flag with the rules it already loads for each batch of events
    (workflows/lead.py `_apply_events`), which decides; the refresh only has to be eventual.
    """
    return await outbox_repo.add_for_leads(
        session,
        REFRESH_LEAD,
        leads_repo.open_lead_ids(pipeline_ids=pipeline_ids, stage_ids=stage_ids),
        workflow_prefix=WORKFLOW_ID_PREFIX,
        note=REFRESH_NOTE,
    )


async def deliver(orchestrator: Orchestrator, message: OutboxMessage) -> None:
    if message.kind == START_LEAD:
        await orchestrator.start_lead(message.payload["lead_id"], message.payload["summary"])
    elif message.kind == LEAD_EVENT:
        event = LeadEvent.model_validate(message.payload["event"])
        if not await orchestrator.deliver_event(message.payload["lead_id"], event):
            log.info(
                "lead closed; activity kept, not delivered", lead_id=message.payload["lead_id"]
            )
    elif message.kind == LEAD_EVENTS:
        events = [LeadEvent.model_validate(e) for e in message.payload["events"]]
        if not await orchestrator.deliver_events(message.payload["lead_id"], events):
            log.info(
                "lead closed; activities kept, not delivered", lead_id=message.payload["lead_id"]
            )
    elif message.kind == REFRESH_LEAD:
        await orchestrator.refresh_lead(message.payload["lead_id"])
    elif message.kind == EVALUATE_GUIDED:
        await orchestrator.evaluate_guided(
            ObjectKind(message.payload["object"]), message.payload["object_id"]
        )
    else:
        raise ValueError(f"unknown outbox message kind {message.kind!r}")


def deliveries(chain: Sequence[OutboxMessage]) -> list[list[OutboxMessage]]:
    """One workflow's messages, oldest first, as the deliveries they make, in order: a run of
    messages of a COALESCED_KINDS kind with one payload is one delivery (of its first), every
    other message one of its own.

    A coalesced run is delivered after all its messages were committed (they were claimed), so
    the evaluation its one signal causes reads every change they were owed for. A lead's
    events are never merged: each is applied, deduplicated and ordered on its own.
    """
    runs: list[list[OutboxMessage]] = []
    for m in chain:
        last = runs[-1][0] if runs else None
        if (
            last is not None
            and m.kind in COALESCED_KINDS
            and (m.kind, m.payload) == (last.kind, last.payload)
        ):
            runs[-1].append(m)
        else:
            runs.append([m])
    return runs


@dataclass
class Outcome:
    delivered: list[int] = field(default_factory=list)
    # Tried and failed: message id -> the error.
    failed: dict[int, str] = field(default_factory=dict)
    untried: list[int] = field(default_factory=list)
    # Why the untried ones were left alone.
    untried_reason: str = ""


async def deliver_all(
    orchestrator: Orchestrator, messages: Sequence[OutboxMessage], *, within: float
) -> Outcome:
    """Deliver messages, each workflow's in order (`deliveries`: a coalesced run counts as
    delivered, or failed, as a whole), several workflows at once, for at most `within`
    seconds.

    Once the server is found unavailable, the messages not yet tried are left alone (each
    would only wait out its own timeout), as are those that follow a failed one in the same
    workflow, so that none overtakes it.
    """
    outcome = Outcome()
    chains: dict[str, list[OutboxMessage]] = defaultdict(list)
    for m in messages:
        chains[m.workflow_id].append(m)
    slots = asyncio.Semaphore(CONCURRENT_WORKFLOWS)
    down: str | None = None

    async def run(chain: list[OutboxMessage]) -> None:
        nonlocal down
        async with slots:
            for delivery in deliveries(chain):
                if down is not None:
                    return
                ids = [m.id for m in delivery]
                try:
                    await deliver(orchestrator, delivery[0])
                    outcome.delivered.extend(ids)
                except (LeadpipeError, RPCError, OSError) as err:
                    outcome.failed.update(dict.fromkeys(ids, str(err)[:500]))
                    log.warning("outbox delivery failed", outbox_ids=ids, error=str(err))
                    if isinstance(err, Unavailable):
                        down = str(err)
                    # The rest of this chain stays untried, so none overtakes this one.
                    return

    try:
        async with asyncio.timeout(within), asyncio.TaskGroup() as group:
            for chain in chains.values():
                group.create_task(run(chain))
    except TimeoutError:
        log.warning("outbox delivery ran out of time", seconds=within)
    done = {*outcome.delivered, *outcome.failed}
    outcome.untried = [m.id for m in messages if m.id not in done]
    if down is not None:
        outcome.untried_reason = f"not tried: {down}"[:500]
    elif outcome.untried:
        outcome.untried_reason = f"not tried: an earlier message failed or {within:g}s ran out"
    return outcome


async def deliver_committed(
    session_factory: SessionFactory,
    orchestrator: Orchestrator,
    messages: Sequence[OutboxMessage],
) -> int:
    """Deliver messages the caller has just committed, then delete them; returns how many.

    The fast path after a commit: the caller holds the messages, so there is nothing to claim,
    and the relay keeps off them for RELAY_AFTER_SECONDS. Delivered ones are deleted, and
    the others handed to the relay at once (their attempts counted), in a few short
    statements. If the cleanup itself fails they stay for the relay all the same: the
    activity is committed, so the request still succeeds.
    """
    if not messages:
        return 0
    outcome = await deliver_all(orchestrator, messages, within=FAST_PATH_SECONDS)
    by_error: dict[str, list[int]] = defaultdict(list)
    for message_id, error in outcome.failed.items():
        by_error[error].append(message_id)
    if outcome.untried:
        by_error[outcome.untried_reason].extend(outcome.untried)
    try:
        async with session_factory() as session:
            await use_autocommit(session)  # one statement each: nothing to wrap
            await outbox_repo.remove_unlocked(session, outcome.delivered)
            for error, ids in by_error.items():
                await outbox_repo.record_failure(session, ids, error)
    except (SQLAlchemyError, OSError) as err:
        log.warning("outbox cleanup failed; the relay will redeliver", error=str(err))
    return len(outcome.delivered)


async def relay_for(
    session_factory: SessionFactory, orchestrator: Orchestrator, workflow_id: str
) -> int:
    """Deliver what is still owed to one workflow, e.g. the start of a lead a chain made: the
    fast path for a caller that does not hold its messages. Returns how many."""
    async with session_factory() as session:
        ids = await outbox_repo.undelivered_ids(session, workflow_id)
    return await relay(session_factory, orchestrator, ids=ids) if ids else 0


async def relay(
    session_factory: SessionFactory,
    orchestrator: Orchestrator,
    *,
    ids: Sequence[int] | None = None,
    older_than_seconds: float = RELAY_AFTER_SECONDS,
    limit: int = 100,
    settle_seconds: float = 0.0,
) -> int:
    """Deliver messages (these `ids`, or any left behind) and delete them; returns how many.

    Left behind: given up by the fast path, or written over `older_than_seconds` ago. A
    message whose delivery fails stays for the next relay pass. With `settle_seconds`, a
    record's owed evaluations wait until none came for that long (at most SETTLE_MAX_SECONDS):
    a burst of activity on one lead is evaluated once, after it, instead of once a pass.
    """
    settle = (
        outbox_repo.Settle(COALESCED_KINDS, settle_seconds, SETTLE_MAX_SECONDS)
        if settle_seconds > 0
        else None
    )
    async with session_factory() as session, session.begin():
        messages = await outbox_repo.claim(
            session, ids=ids, older_than_seconds=older_than_seconds, limit=limit, settle=settle
        )
        if not messages:
            return 0
        outcome = await deliver_all(orchestrator, messages, within=RELAY_PASS_SECONDS)
        for m in messages:
            if m.id in outcome.failed:
                m.attempts += 1
                m.last_error = outcome.failed[m.id]
        await outbox_repo.remove(session, outcome.delivered)
    return len(outcome.delivered)
