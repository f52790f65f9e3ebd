from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from db.models import (
    Deal,
    DealCloseDateChange,
    DealColumns,
    DealStageChange,
    DealStageNorm,
    Meeting,
    Pipeline,
    Stage,
    Task,
)
from domain.deal_properties import (
    CATALOGUE,
    DealFilter,
    DealProperty,
    DealSort,
    FilterOp,
    PropertyType,
    Scalar,
    SortDirection,
)
from domain.deals import NOT_HAPPENING, DealStageKind, DealView

_COLUMNS: Mapping[DealProperty, InstrumentedAttribute[Any]] = {
    DealProperty.ID: Deal.id,
    DealProperty.NAME: Deal.name,
    DealProperty.AMOUNT: Deal.amount,
    DealProperty.CLOSE_DATE: Deal.close_date,
    DealProperty.PIPELINE_ID: Deal.pipeline_id,
    DealProperty.STAGE_ID: Deal.stage_id,
    DealProperty.OWNER_ID: Deal.owner_id,
    DealProperty.CONTACT_ID: Deal.contact_id,
    DealProperty.COMPANY_ID: Deal.company_id,
    DealProperty.LEAD_ID: Deal.lead_id,
    DealProperty.NEXT_STEPS: Deal.next_steps,
    DealProperty.STAGE_ENTERED_AT: Deal.stage_entered_at,
    DealProperty.CREATED_AT: Deal.created_at,
    DealProperty.UPDATED_AT: Deal.updated_at,
}


@dataclass(frozen=True)
class DealQuery:
    """Open deals of a view; every limit here comes from the service (visibility included)."""

    view: DealView
    now: datetime
    # The owners listed; None: any owner the visibility allows.
    owner_ids: frozenset[int] | None
    # PERM-7: only deals this user owns (None: all).
    visible_owner: int | None
    # PERM-7: only the meetings and tasks this user logged count as scheduled (None: all).
    activity_owner: int | None
    filters: tuple[DealFilter, ...] = ()
    # closing_this_month: the month's first and last day in the caller's zone.
    month: tuple[date, date] | None = None
    # stalled: each open stage's norm; stages without one use `default_norm`.
    norms: Mapping[int, timedelta] = field(default_factory=dict)
    default_norm: timedelta | None = None


def _scheduled_meeting(now: datetime, activity_owner: int | None) -> ColumnElement[bool]:
    conditions = [
        Meeting.deal_id == Deal.id,
        Meeting.start > now,
        Meeting.kind == "meeting",
        or_(Meeting.outcome.is_(None), Meeting.outcome.not_in(NOT_HAPPENING)),
    ]
    if activity_owner is not None:
        conditions.append(Meeting.owner_id == activity_owner)
    return exists().where(*conditions)


def _open_task(activity_owner: int | None) -> ColumnElement[bool]:
    conditions = [Task.deal_id == Deal.id, Task.status == "open"]
    if activity_owner is not None:
        conditions.append(Task.owner_id == activity_owner)
    return exists().where(*conditions)


def _condition(f: DealFilter) -> ColumnElement[bool]:
    column = _COLUMNS[f.property]
    kind = CATALOGUE[f.property].type
    if f.op == FilterOp.IS_SET:
        return column.is_not(None)
    if f.op == FilterOp.NOT_SET:
        return column.is_(None)
    # Text compares without regard to case, as people type names.
    target: Any = func.lower(column) if kind == PropertyType.TEXT else column

    def value(v: Scalar) -> Any:
        return v.lower() if kind == PropertyType.TEXT and isinstance(v, str) else v

    if f.op == FilterOp.IN:
        assert isinstance(f.value, tuple)
        within: ColumnElement[bool] = target.in_([value(v) for v in f.value])
        return within
    assert f.value is not None and not isinstance(f.value, tuple)
    v = value(f.value)
    if f.op == FilterOp.CONTAINS:
        escaped = str(v).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like: ColumnElement[bool] = target.like(f"%{escaped}%", escape="\\")
        return like
    operations = {
        FilterOp.EQ: lambda: target == v,
        # A deal without the property is not equal to the value either.
        FilterOp.NEQ: lambda: target.is_distinct_from(v),
        FilterOp.LT: lambda: target < v,
        FilterOp.LTE: lambda: target <= v,
        FilterOp.GT: lambda: target > v,
        FilterOp.GTE: lambda: target >= v,
    }
    condition: ColumnElement[bool] = operations[f.op]()
    return condition


def _after(sort: DealSort, after: tuple[Any, int]) -> ColumnElement[bool]:
    """Rows after (value, id) in the order (column nulls last, id), either direction."""
    column = _COLUMNS[sort.property]
    value, last_id = after
    ascending = sort.direction == SortDirection.ASC
    beyond_id = Deal.id > last_id if ascending else Deal.id < last_id
    if value is None:
        return and_(column.is_(None), beyond_id)
    beyond = column > value if ascending else column < value
    return or_(beyond, and_(column == value, beyond_id), column.is_(None))


async def list_deals(
    session: AsyncSession,
    q: DealQuery,
    *,
    sort: DealSort,
    after: tuple[Any, int] | None,
    limit: int,
) -> Sequence[tuple[Deal, str]]:
    """Open deals of the view with their stage label, in `sort` order (unset values last,
    then by id), after the (value, id) of the previous page's last row."""
    column = _COLUMNS[sort.property]
    ascending = sort.direction == SortDirection.ASC
    query = (
        select(Deal, Stage.label)
        .join(Stage, Stage.id == Deal.stage_id)
        .where(Stage.kind == DealStageKind.OPEN)
        .order_by(
            column.asc().nulls_last() if ascending else column.desc().nulls_last(),
            Deal.id.asc() if ascending else Deal.id.desc(),
        )
        .limit(limit)
    )
    if q.owner_ids is not None:
        query = query.where(Deal.owner_id.in_(sorted(q.owner_ids)))
    if q.visible_owner is not None:
        query = query.where(Deal.owner_id == q.visible_owner)
    query = query.where(*(_condition(f) for f in q.filters))
    if q.view == DealView.NO_ACTIVITY_SCHEDULED:
        query = query.where(
            ~_scheduled_meeting(q.now, q.activity_owner), ~_open_task(q.activity_owner)
        )
    elif q.view == DealView.CLOSING_THIS_MONTH:
        assert q.month is not None
        query = query.where(Deal.close_date.between(*q.month))
    elif q.view == DealView.STALLED:
        assert q.default_norm is not None
        threshold = case(
            *((Deal.stage_id == stage_id, q.now - norm) for stage_id, norm in q.norms.items()),
            else_=literal(q.now - q.default_norm),
        )
        query = query.where(Deal.stage_entered_at < threshold)
    if after is not None:
        query = query.where(_after(sort, after))
    rows = await session.execute(query)
    return [(deal, label) for deal, label in rows.tuples().all()]


def sort_value(deal: Deal, sort: DealSort) -> Any:
    return getattr(deal, _COLUMNS[sort.property].key)


# -- History and norms -------------------------------------------------------------------------


async def add_stage_change(session: AsyncSession, change: DealStageChange) -> DealStageChange:
    session.add(change)
    await session.flush()
    return change


async def add_close_date_change(
    session: AsyncSession, change: DealCloseDateChange
) -> DealCloseDateChange:
    session.add(change)
    await session.flush()
    return change


async def latest_stage_change(session: AsyncSession, deal_id: int) -> DealStageChange | None:
    return await session.scalar(
        select(DealStageChange)
        .where(DealStageChange.deal_id == deal_id)
        .order_by(DealStageChange.at.desc(), DealStageChange.id.desc())
        .limit(1)
    )


async def close_date_changes(
    session: AsyncSession, deal_id: int, since: datetime
) -> Sequence[DealCloseDateChange]:
    return (
        await session.scalars(
            select(DealCloseDateChange)
            .where(DealCloseDateChange.deal_id == deal_id, DealCloseDateChange.at >= since)
            .order_by(DealCloseDateChange.at, DealCloseDateChange.id)
        )
    ).all()


async def open_deal_stage_ids(session: AsyncSession) -> Sequence[int]:
    """The open stages of every deal pipeline, in use or not (deals may still be in them)."""
    return (
        await session.scalars(
            select(Stage.id)
            .join(Pipeline, Pipeline.id == Stage.pipeline_id)
            .where(Pipeline.object == "deal", Stage.kind == DealStageKind.OPEN)
            .order_by(Stage.id)
        )
    ).all()


async def stored_norms(session: AsyncSession, stage_ids: Sequence[int]) -> dict[int, DealStageNorm]:
    if not stage_ids:
        return {}
    rows = await session.scalars(select(DealStageNorm).where(DealStageNorm.stage_id.in_(stage_ids)))
    return {n.stage_id: n for n in rows.all()}


async def stage_exits(
    session: AsyncSession, stage_ids: Sequence[int], since: datetime
) -> dict[int, tuple[int, float | None]]:
    """Per stage: how many deals left it since `since`, and the median seconds they spent in
    it. One statement; the (from_stage_id, at) index covers it."""
    found: dict[int, tuple[int, float | None]] = {s: (0, None) for s in stage_ids}
    if not stage_ids:
        return found
    median = func.percentile_cont(0.5).within_group(DealStageChange.seconds_in_from_stage)
    rows = await session.execute(
        select(DealStageChange.from_stage_id, func.count(), median)
        .where(DealStageChange.from_stage_id.in_(stage_ids), DealStageChange.at >= since)
        .group_by(DealStageChange.from_stage_id)
    )
    for stage_id, count, seconds in rows.tuples().all():
        found[stage_id] = (count, seconds)
    return found


async def save_norms(
    session: AsyncSession, norms: Mapping[int, tuple[int, float | None]], at: datetime
) -> None:
    if not norms:
        return
    statement = insert(DealStageNorm).values(
        [
            {"stage_id": s, "samples": n, "median_seconds": m, "computed_at": at}
            for s, (n, m) in sorted(norms.items())
        ]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[DealStageNorm.stage_id],
            set_={
                "samples": statement.excluded.samples,
                "median_seconds": statement.excluded.median_seconds,
                "computed_at": statement.excluded.computed_at,
            },
        )
    )


# -- What is scheduled -------------------------------------------------------------------------


async def next_meeting(
    session: AsyncSession, deal_id: int, now: datetime, activity_owner: int | None
) -> Meeting | None:
    query = (
        select(Meeting)
        .where(
            Meeting.deal_id == deal_id,
            Meeting.start > now,
            Meeting.kind == "meeting",
            or_(Meeting.outcome.is_(None), Meeting.outcome.not_in(NOT_HAPPENING)),
        )
        .order_by(Meeting.start, Meeting.id)
        .limit(1)
    )
    if activity_owner is not None:
        query = query.where(Meeting.owner_id == activity_owner)
    return await session.scalar(query)


async def next_open_task(
    session: AsyncSession, deal_id: int, activity_owner: int | None
) -> Task | None:
    query = (
        select(Task)
        .where(Task.deal_id == deal_id, Task.status == "open")
        .order_by(Task.due_at.asc().nulls_last(), Task.id)
        .limit(1)
    )
    if activity_owner is not None:
        query = query.where(Task.owner_id == activity_owner)
    return await session.scalar(query)


# -- Columns -----------------------------------------------------------------------------------


async def saved_columns(session: AsyncSession, user_id: int) -> list[str] | None:
    return await session.scalar(select(DealColumns.columns).where(DealColumns.user_id == user_id))


async def save_columns(session: AsyncSession, user_id: int, columns: list[str]) -> None:
    statement = insert(DealColumns).values(user_id=user_id, columns=columns)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[DealColumns.user_id],
            set_={"columns": statement.excluded.columns, "updated_at": func.now()},
        )
    )
