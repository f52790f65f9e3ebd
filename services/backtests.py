"""Backtests (AUT-*, ACT-1): a proposed automation or stage chain replayed over the stored
past of a pipeline's leads, and compared with what happened. Admins only, like saving.

The body is checked exactly as saving checks it. The past is read in one read-only,
repeatable-read transaction, leads in id batches with their history and activities, so
memory holds one batch; the replay itself is `domain.backtests`. Bounded: at most
`Limits.leads` leads and `Limits.activities` activities and `Limits.seconds` of work, after
which the answer covers the leads replayed so far and says `truncated`.
"""

import json
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from db.repositories import backtests as repo
from domain import chains
from domain.activities import event_kinds
from domain.addresses import NO_EXCEPTIONS, AllowList
from domain.automation import AutomationConfig
from domain.backtests import (
    FOLLOW_UP,
    ChainVersionAt,
    LeadRecord,
    Outcome,
    StageChains,
    StageInfo,
    StoredEvent,
    StoredMove,
    Window,
    resolve_window,
)
from domain.backtests.runs import CONTROL_TYPES, chain_traits
from domain.chains import DELAY_EVENT_TYPES, ChainContext
from domain.errors import FieldError, InvalidInput
from domain.lead_settings import CreateLeadOnLifecycle
from domain.roles import ADMINS
from services import automation
from services import chains as chain_service
from services.auth import require_role
from services.chain_context import CONTEXT_COLUMNS, context_of_values
from services.progression import progression_of

LEAD_BATCH = 1000


@dataclass(frozen=True)
class Limits:
    leads: int = 100_000
    activities: int = 2_000_000
    seconds: float = 60.0
    # Per statement, so one slow query cannot hold the connection.
    statement_ms: int = 30_000


@dataclass(frozen=True)
class WindowAsked:
    days: int | None = None
    start: datetime | None = None
    end: datetime | None = None


def _window(asked: WindowAsked, now: datetime, errors: list[FieldError]) -> Window | None:
    try:
        return resolve_window(now, days=asked.days, start=asked.start, end=asked.end)
    except InvalidInput as bad:
        errors += bad.errors
        return None


def _raise(errors: list[FieldError]) -> None:
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors)


async def backtest_automation(
    session: AsyncSession,
    actor: User,
    pipeline_id: int,
    config: AutomationConfig,
    create_lead_on_lifecycle: CreateLeadOnLifecycle | None = None,
    asked: WindowAsked = WindowAsked(),
    *,
    now: datetime | None = None,
    limits: Limits = Limits(),
) -> Outcome:
    """What `config` would have done to the pipeline's leads in the window: stage moves per
    rule, follow-up leads, chain runs per stage and their effects per action type, each with
    what was stored. Raises Forbidden, NotFound, InvalidInput (as saving, plus the window)."""
    require_role(actor, ADMINS, "backtesting pipeline automation")
    async with session.begin():
        await repo.begin_read_only(session, limits.statement_ms)
        pipeline = await automation.lead_pipeline(session, pipeline_id)
        errors = await automation.config_errors(session, pipeline, config, create_lead_on_lifecycle)
        window = _window(asked, now or datetime.now(UTC), errors)
        _raise(errors)
        assert window is not None
        stages = await _stages(session, pipeline_id)
        progression = progression_of(
            pipeline_id,
            config,
            {s: info.position for s, info in stages.items()},
            pipeline.is_default,
        )
        stage_chains = await _chains(session, pipeline_id, window)
        outcome = Outcome(window)
        for rule in config.progression_rules():
            outcome.moves.proposed.setdefault(rule.value, {})
        outcome.follow_ups.proposed.setdefault(FOLLOW_UP, {})
        follow_ups: dict[int, int] = defaultdict(int)
        for parent in await repo.follow_up_parents(session, pipeline_id, window.start, window.end):
            follow_ups[parent] += 1

        def add(record: LeadRecord, context: ChainContext | None) -> bool:
            added = outcome.add_automation_lead(
                record, progression, config.follow_up_on_disqualify, stages, stage_chains, context
            )
            if added and record.lead_id in follow_ups:
                outcome.follow_ups.add_actual(FOLLOW_UP, record.lead_id, follow_ups[record.lead_id])
            return added

        await _replay(
            session,
            pipeline_id,
            outcome,
            limits,
            add,
            needs_context=lambda _moves: bool(stage_chains),
            activity_types=None,
            run_stage_id=None,
        )
        return outcome


async def backtest_chain(
    session: AsyncSession,
    actor: User,
    pipeline_id: int,
    stage_id: int,
    raw_actions: Any,
    asked: WindowAsked = WindowAsked(),
    *,
    webhook_targets: AllowList = NO_EXCEPTIONS,
    now: datetime | None = None,
    limits: Limits = Limits(),
) -> Outcome:
    """What the proposed chain would have done had it run for every entry into the stage in
    the window: runs, effects per action type, steps per action, each with what the stored
    runs did. Raises Forbidden, NotFound, InvalidInput (as saving, plus the window)."""
    require_role(actor, ADMINS, "backtesting stage chains")
    async with session.begin():
        await repo.begin_read_only(session, limits.statement_ms)
        errors: list[FieldError] = []
        try:
            actions = await chain_service.proposed_chain(
                session, pipeline_id, stage_id, raw_actions, webhook_targets=webhook_targets
            )
        except InvalidInput as bad:
            errors += bad.errors
            actions = []
        window = _window(asked, now or datetime.now(UTC), errors)
        _raise(errors)
        assert window is not None
        outcome = Outcome(window)
        outcome.runs.proposed.setdefault(str(stage_id), {})
        for _, _, action in chains.walk(actions):
            outcome.steps.proposed.setdefault(action.id, {})
        traits = chain_traits(actions)
        wanted = sorted(set().union(*DELAY_EVENT_TYPES.values()))

        def add(record: LeadRecord, context: ChainContext | None) -> bool:
            return outcome.add_chain_lead(record, stage_id, actions, context)

        def enters(moves: Sequence[StoredMove]) -> bool:
            # Only a lead entering the stage in the window has a run, hence needs a context.
            return any(m.to_stage_id == stage_id and window.holds(m.at) for m in moves)

        await _replay(
            session,
            pipeline_id,
            outcome,
            limits,
            add,
            needs_context=enters if actions else lambda _moves: False,
            activity_types=wanted if traits.waits_for_events else [],
            run_stage_id=stage_id,
        )
        return outcome


async def _stages(session: AsyncSession, pipeline_id: int) -> dict[int, StageInfo]:
    return {s.id: StageInfo(s.position, s.kind) for s in await repo.stages(session, pipeline_id)}


async def _chains(
    session: AsyncSession, pipeline_id: int, window: Window
) -> dict[int, StageChains]:
    versions: dict[int, list[ChainVersionAt]] = defaultdict(list)
    for row in await repo.chain_versions(session, pipeline_id, window.end):
        versions[row.stage_id].append(
            ChainVersionAt(row.created_at, chains.parse_actions(row.actions))
        )
    return {
        stage_id: StageChains(tuple(v))
        for stage_id, v in versions.items()
        if any(version.actions for version in v)
    }


async def _replay(
    session: AsyncSession,
    pipeline_id: int,
    outcome: Outcome,
    limits: Limits,
    add: Callable[[LeadRecord, ChainContext | None], bool],
    *,
    needs_context: Callable[[Sequence[StoredMove]], bool],
    activity_types: Sequence[str] | None,
    run_stage_id: int | None,
) -> None:
    """Replay the pipeline's leads batch by batch into `outcome`, with the stored runs,
    steps and effects of each lead replayed; stop at the limits. Chain contexts are read
    for the leads `needs_context` picks by their stage history."""
    window = outcome.window
    started = time.monotonic()
    after = 0
    kinds: dict[tuple[str, str | None, str | None], tuple[str, ...]] = {}
    while True:
        leads = await repo.leads(session, pipeline_id, after, LEAD_BATCH)
        if not leads:
            return
        after = leads[-1][0]
        ids = [lead_id for lead_id, _, _ in leads]
        moves: dict[int, list[StoredMove]] = defaultdict(list)
        for lead_id, at, from_id, to_id, cause, reason_id in await repo.history(
            session, ids, window.end
        ):
            moves[lead_id].append(StoredMove(at, from_id, to_id, cause, reason_id))
        events: dict[int, list[StoredEvent]] = defaultdict(list)
        if activity_types is None or activity_types:
            contact_ids = sorted({contact_id for _, _, contact_id in leads if contact_id})
            for row in await repo.activities(
                session, ids, contact_ids, window.start, window.end, activity_types
            ):
                events[row[0]].append(_event(row, kinds))
        wanted = [lead_id for lead_id in ids if needs_context(moves[lead_id])]
        contexts = await _contexts(session, wanted) if wanted else {}
        replayed: list[int] = []
        truncated: str | None = None
        for lead_id, auto_progression, _ in leads:
            record = LeadRecord(
                lead_id, pipeline_id, auto_progression, moves[lead_id], events[lead_id]
            )
            if add(record, contexts.get(lead_id)):
                replayed.append(lead_id)
            truncated = _past_limits(outcome, limits, time.monotonic() - started)
            if truncated is not None:
                break
        await _add_stored_runs(session, outcome, replayed, run_stage_id)
        if truncated is not None:
            outcome.truncated = truncated
            return


def _event(
    row: Sequence[Any], kinds: dict[tuple[str, str | None, str | None], tuple[str, ...]]
) -> StoredEvent:
    """The stored activity as the replay takes it; its automation events depend on its type
    and call and meeting details alone, so they are worked out once per such triple."""
    _, activity_id, event_id, type_, occurred_at, created_at, call, meeting = row
    key = (type_, call, meeting)
    found = kinds.get(key)
    if found is None:
        details = {
            "call": json.loads(call) if call else {},
            "meeting": json.loads(meeting) if meeting else {},
        }
        found = kinds[key] = tuple(sorted(k.value for k in event_kinds(type_, details)))
    return StoredEvent(activity_id, event_id, type_, occurred_at, created_at, found)


async def _contexts(session: AsyncSession, lead_ids: Sequence[int]) -> dict[int, ChainContext]:
    return {
        lead_id: context_of_values(values)
        for lead_id, values in await repo.context_values(session, lead_ids, CONTEXT_COLUMNS)
    }


async def _add_stored_runs(
    session: AsyncSession, outcome: Outcome, lead_ids: Sequence[int], stage_id: int | None
) -> None:
    if not lead_ids:
        return
    window = outcome.window
    for lead_id, run_stage in await repo.runs(
        session, lead_ids, window.start, window.end, stage_id
    ):
        outcome.runs.add_actual(str(run_stage), lead_id)
    for lead_id, action_id, type_, _status, did_something in await repo.steps(
        session, lead_ids, window.start, window.end, stage_id
    ):
        if stage_id is not None:
            outcome.steps.add_actual(action_id, lead_id)
        if did_something and type_ not in CONTROL_TYPES:
            outcome.effects.add_actual(type_, lead_id)


def _past_limits(outcome: Outcome, limits: Limits, seconds: float) -> str | None:
    if outcome.leads_considered >= limits.leads:
        return f"stopped after {outcome.leads_considered} leads (at most {limits.leads})"
    if outcome.activities_considered >= limits.activities:
        return (
            f"stopped after {outcome.activities_considered} activities "
            f"(at most {limits.activities})"
        )
    if seconds >= limits.seconds:
        return f"stopped after {seconds:.1f} s (at most {limits.seconds:g} s)"
    return None
