"""Reads for backtests: a pipeline's leads in id batches and, per batch, their stage history,
the activities delivered to them, and what their chain runs did. Read only; the caller holds
one read-only, repeatable-read transaction so every batch sees the same past."""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import ARRAY, Integer, Row, and_, any_, func, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    ChainRun,
    ChainStep,
    ChainVersion,
    Company,
    Contact,
    Lead,
    LeadStageChange,
    Stage,
    User,
)


def _any_of(ids: Collection[int]) -> Any:
    """`= ANY(array)` with the ids as one parameter: `IN` would send a thousand, and the
    driver would parse a statement that long again for every batch."""
    return any_(literal(list(ids), ARRAY(Integer)))


async def begin_read_only(session: AsyncSession, statement_timeout_ms: int) -> None:
    """Make the session's open transaction a read-only snapshot with a statement time limit.
    Must be the transaction's first statement."""
    await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
    await session.execute(text(f"SET LOCAL statement_timeout = {int(statement_timeout_ms)}"))


async def stages(session: AsyncSession, pipeline_id: int) -> Sequence[Stage]:
    """Every stage of the pipeline, removed ones too (history still names them)."""
    return (await session.scalars(select(Stage).where(Stage.pipeline_id == pipeline_id))).all()


async def chain_versions(
    session: AsyncSession, pipeline_id: int, before: datetime
) -> Sequence[ChainVersion]:
    """The pipeline's chain versions saved before `before`, oldest first per stage."""
    return (
        await session.scalars(
            select(ChainVersion)
            .where(ChainVersion.pipeline_id == pipeline_id, ChainVersion.created_at < before)
            .order_by(ChainVersion.stage_id, ChainVersion.version)
        )
    ).all()


async def leads(
    session: AsyncSession, pipeline_id: int, after_id: int, limit: int
) -> Sequence[Row[int, bool, int | None]]:
    """(id, auto_progression, contact_id) of the pipeline's next `limit` leads by id."""
    return (
        await session.execute(
            select(Lead.id, Lead.auto_progression, Lead.contact_id)
            .where(Lead.pipeline_id == pipeline_id, Lead.id > after_id)
            .order_by(Lead.id)
            .limit(limit)
        )
    ).all()


async def context_values(
    session: AsyncSession, lead_ids: Collection[int], columns: Mapping[str, Sequence[str]]
) -> list[tuple[int, dict[str, tuple[Any, ...] | None]]]:
    """Per lead, the values of `columns` (per record kind: lead, contact, company, owner) of
    the lead, its contact, its company (the lead's, else the contact's) and its owner; None
    for a record it has not. Plain rows, no ORM objects: a backtest reads thousands."""
    models: dict[str, type[Lead | Contact | Company | User]] = {
        "lead": Lead,
        "contact": Contact,
        "company": Company,
        "owner": User,
    }
    selected: list[Any] = [Lead.id.label("lead_id")]
    for prefix, model in models.items():
        selected.append(model.id.label(f"{prefix}__present"))
        selected += [getattr(model, c).label(f"{prefix}_{c}") for c in columns[prefix]]
    rows = (
        await session.execute(
            select(*selected)
            .select_from(Lead)
            .outerjoin(Contact, Contact.id == Lead.contact_id)
            .outerjoin(Company, Company.id == func.coalesce(Lead.company_id, Contact.company_id))
            .outerjoin(User, User.id == Lead.owner_id)
            .where(Lead.id == _any_of(lead_ids))
        )
    ).tuples()
    found: list[tuple[int, dict[str, tuple[Any, ...] | None]]] = []
    for row in rows:
        values: dict[str, tuple[Any, ...] | None] = {}
        at = 1
        for prefix in models:
            width = len(columns[prefix])
            values[prefix] = row[at + 1 : at + 1 + width] if row[at] is not None else None
            at += 1 + width
        found.append((row[0], values))
    return found


async def history(
    session: AsyncSession, lead_ids: Collection[int], before: datetime
) -> Sequence[Row[int, datetime, int | None, int, str, int | None]]:
    """The leads' stage history before `before`, by lead, oldest first."""
    h = LeadStageChange
    return (
        await session.execute(
            select(
                h.lead_id,
                h.at,
                h.from_stage_id,
                h.to_stage_id,
                h.cause,
                h.disqualification_reason_id,
            )
            .where(h.lead_id == _any_of(lead_ids), h.at < before)
            .order_by(h.lead_id, h.at, h.id)
        )
    ).all()


# In the driver's parameter style: run on the psycopg connection itself (see `activities`).
_ACTIVITIES = """
    SELECT d.lead_id, a.id, a.event_id, a.type, a.occurred_at, a.created_at,
           (a.details -> 'call')::text AS call, (a.details -> 'meeting')::text AS meeting
    FROM activities a
    CROSS JOIN LATERAL unnest(
        coalesce(a.delivered_lead_ids, CASE WHEN a.lead_id IS NULL THEN '{}'::int[]
                                            ELSE ARRAY[a.lead_id] END)
    ) AS d(lead_id)
    WHERE (a.lead_id = ANY(%(lead_ids)s) OR a.contact_id = ANY(%(contact_ids)s))
      AND d.lead_id = ANY(%(lead_ids)s)
      AND a.occurred_at >= %(start)s AND a.occurred_at < %(end)s
      AND (CAST(%(types)s AS text[]) IS NULL OR a.type = ANY(CAST(%(types)s AS text[])))
    ORDER BY d.lead_id, a.id
"""

ActivityRow = tuple[int, int, str, str, datetime, datetime, str | None, str | None]


async def activities(
    session: AsyncSession,
    lead_ids: Sequence[int],
    contact_ids: Sequence[int],
    start: datetime,
    end: datetime,
    types: Sequence[str] | None = None,
) -> list[ActivityRow]:
    """Activities delivered to the leads that occurred in [start, end), by lead, in arrival
    order (id): (lead_id, id, event_id, type, occurred_at, created_at, call, meeting), with
    the call and meeting details their automation events depend on as JSON text (most are
    alike: the caller decodes each kind once).

    Found through the lead and contact indexes; an activity names its lead, or its contact
    whose open leads it was delivered to (`delivered_lead_ids`). Run on the session's
    psycopg connection, in its transaction: a 30-day backtest reads 200,000 of these, and
    plain driver tuples cost a fraction of result rows.
    """
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert isinstance(raw, psycopg.AsyncConnection)
    async with raw.cursor() as cursor:
        await cursor.execute(
            _ACTIVITIES,
            {
                "lead_ids": list(lead_ids),
                "contact_ids": list(contact_ids),
                "start": start,
                "end": end,
                "types": list(types) if types is not None else None,
            },
        )
        rows: list[ActivityRow] = await cursor.fetchall()
        return rows


async def follow_up_parents(
    session: AsyncSession, pipeline_id: int, start: datetime, end: datetime
) -> Sequence[int]:
    """The parent lead of each follow-up lead created in [start, end) in the pipeline, once
    per follow-up lead."""
    return (
        await session.scalars(
            select(Lead.parent_lead_id)
            .join(LeadStageChange, LeadStageChange.lead_id == Lead.id)
            .where(
                Lead.pipeline_id == pipeline_id,
                Lead.parent_lead_id.is_not(None),
                Lead.source == "follow_up",
                LeadStageChange.cause == "created",
                LeadStageChange.from_stage_id.is_(None),
                LeadStageChange.at >= start,
                LeadStageChange.at < end,
            )
        )
    ).all()  # type: ignore[return-value]  # parent_lead_id is not null by the filter


async def runs(
    session: AsyncSession,
    lead_ids: Collection[int],
    start: datetime,
    end: datetime,
    stage_id: int | None = None,
) -> Sequence[Row[int, int]]:
    """(lead_id, stage_id) of each chain run of the leads started in [start, end)."""
    query = select(ChainRun.lead_id, ChainRun.stage_id).where(
        ChainRun.lead_id == _any_of(lead_ids),
        ChainRun.started_at >= start,
        ChainRun.started_at < end,
    )
    if stage_id is not None:
        query = query.where(ChainRun.stage_id == stage_id)
    return (await session.execute(query)).all()


async def steps(
    session: AsyncSession,
    lead_ids: Collection[int],
    start: datetime,
    end: datetime,
    stage_id: int | None = None,
) -> Sequence[Row[int, str, str, str, bool]]:
    """(lead_id, action_id, type, status, did_something) of each step started before `end`
    by the runs `runs` finds; `did_something` is false for a step that skipped its effect
    (no address) or found the lead gone from the stage."""
    did_something = and_(
        ChainStep.status == "completed",
        func.coalesce(ChainStep.result.has_key("skipped"), False).is_(False),
        func.coalesce(ChainStep.result.has_key("left_stage"), False).is_(False),
    )
    query = (
        select(
            ChainRun.lead_id, ChainStep.action_id, ChainStep.type, ChainStep.status, did_something
        )
        .join(ChainStep, ChainStep.run_id == ChainRun.id)
        .where(
            ChainRun.lead_id == _any_of(lead_ids),
            ChainRun.started_at >= start,
            ChainRun.started_at < end,
            ChainStep.started_at < end,
        )
    )
    if stage_id is not None:
        query = query.where(ChainRun.stage_id == stage_id)
    return (await session.execute(query)).all()
