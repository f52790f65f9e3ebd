"""The deals tab (DEAL-1 to DEAL-5): the caller's open deals by view, quick and advanced
filters, saved columns, and a deal's overview.

PERM-3: the tab needs a current sales seat; a super admin looks at other users' deals without
one (as in the workspace, PERM-4). PERM-7: what is listed and counted comes from
services/visibility.py: another owner's deals need `deals: all`, and only the meetings and
tasks the caller may see count as scheduled.
"""

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Activity, Call, Contact, Deal, Meeting, Pipeline, Stage, User
from db.repositories import deals as deals_repo
from db.repositories import insights as insights_repo
from db.repositories import pipelines as pipelines_repo
from db.repositories import records
from domain.bounds import INT_MAX
from domain.deal_properties import (
    CATALOGUE,
    DEFAULT_COLUMNS,
    DealFilter,
    DealProperty,
    DealSort,
    FilterOp,
    parse_columns,
    parse_filter,
    parse_sort,
    parse_value,
)
from domain.deal_risks import FollowUp
from domain.deals import (
    NORM_DEFAULT,
    NORM_MAX_AGE,
    NORM_WINDOW,
    DealStageKind,
    DealView,
    StageNorm,
    days_between,
    is_stalled,
    month_of,
    stage_norm,
)
from domain.engagements import ENGAGEMENT_TYPES, Engagement, EngagementType
from domain.errors import InvalidInput, invalid
from domain.roles import WORKSPACE_ROLES, Role, may_view_workspace_of_others
from services import visibility
from services.auth import require_role, require_workspace
from services.pagination import Page


@dataclass(frozen=True)
class DealList:
    view: DealView = DealView.ALL_OPEN
    # The owners listed: the caller by default; None for any owner the caller may see.
    owner_ids: frozenset[int] | None = None
    filters: tuple[DealFilter, ...] = ()
    sort: DealSort = field(default_factory=DealSort)


@dataclass(frozen=True)
class DealSearch:
    """A search as sent: filters as (property, operator, value), the sort as (property,
    direction); checked by `search_deals`."""

    view: DealView = DealView.ALL_OPEN
    filters: tuple[tuple[str, str, Any], ...] = ()
    sort: tuple[str, str] = ("id", "asc")


@dataclass(frozen=True)
class DealRow:
    deal: Deal
    stage_label: str


@dataclass(frozen=True)
class DealPage:
    view: DealView
    columns: tuple[DealProperty, ...]
    page: Page[DealRow]


def owners_of_search(actor: User, filters: Sequence[DealFilter]) -> frozenset[int] | None:
    """The owners a search lists: the caller's deals unless an `owner_id` filter names others
    (`eq`, `in`); other operators on it search every owner the caller may see (None)."""
    owner_filters = [f for f in filters if f.property == DealProperty.OWNER_ID]
    if not owner_filters:
        return frozenset({actor.id})
    named: set[int] | None = None
    for f in owner_filters:
        if f.op == FilterOp.EQ:
            ids = {f.value}
        elif f.op == FilterOp.IN:
            assert isinstance(f.value, tuple)
            ids = set(f.value)
        else:
            continue
        owners = {i for i in ids if isinstance(i, int)}
        named = owners if named is None else named & owners
    return None if named is None else frozenset(named)


def _admit(actor: User, owners: frozenset[int] | None, action: str) -> None:
    """PERM-3 and PERM-4 for a list of these owners' deals; PERM-7 for the owners named.
    Raises Forbidden, SeatRequired."""
    require_role(actor, WORKSPACE_ROLES, action)
    if owners == frozenset({actor.id}) or not may_view_workspace_of_others(Role(actor.role)):
        require_workspace(actor, action)
    if owners:
        visibility.require_deals_of(actor, owners)


async def admit_deal(session: AsyncSession, actor: User, deal_id: int, action: str) -> Deal:
    """The deal, for one of the tab's reads of one deal. Raises Forbidden, SeatRequired
    (PERM-3; a super admin needs no seat for another user's deal), NotFound (no such deal,
    or hidden by the caller's deal visibility)."""
    require_role(actor, WORKSPACE_ROLES, action)
    views_others = may_view_workspace_of_others(Role(actor.role))
    if not views_others:
        require_workspace(actor, action)
    deal = visibility.visible_deal(actor, await records.get(session, Deal, deal_id), deal_id)
    if views_others and deal.owner_id == actor.id:
        require_workspace(actor, action)
    return deal


async def list_deals(
    session: AsyncSession,
    actor: User,
    request: DealList,
    *,
    limit: int,
    cursor: str | None,
    now: datetime | None = None,
) -> DealPage:
    """Open deals of a view, filtered and sorted, with the caller's columns (DEAL-1 to 4).

    Raises Forbidden (role; another owner's deals under `deals: owned`), SeatRequired,
    InvalidInput (a cursor this API did not hand out for this sort).
    """
    _admit(actor, request.owner_ids, "listing deals")
    now = now or datetime.now(UTC)
    after = decode_cursor(cursor, request.sort)
    async with session.begin():
        norms: dict[int, StageNorm] = {}
        if request.view == DealView.STALLED:
            norms = await stage_norms(session, await deals_repo.open_deal_stage_ids(session), now)
        rows = await deals_repo.list_deals(
            session,
            deals_repo.DealQuery(
                view=request.view,
                now=now,
                owner_ids=request.owner_ids,
                visible_owner=visibility.deals_owned_by(actor),
                activity_owner=visibility.activities_logged_by(actor),
                filters=request.filters,
                month=month_of(now, actor.time_zone)
                if request.view == DealView.CLOSING_THIS_MONTH
                else None,
                norms={s: n.duration for s, n in norms.items()},
                default_norm=NORM_DEFAULT,
            ),
            sort=request.sort,
            after=after,
            limit=limit + 1,
        )
        columns = await _columns_of(session, actor)
    items = [DealRow(deal, label) for deal, label in rows[:limit]]
    more = len(rows) > limit and items
    next_cursor = encode_cursor(request.sort, items[-1].deal) if more else None
    return DealPage(request.view, columns, Page(items, next_cursor))


async def search_deals(
    session: AsyncSession,
    actor: User,
    search: DealSearch,
    *,
    limit: int,
    cursor: str | None,
    now: datetime | None = None,
) -> DealPage:
    """Advanced filters (DEAL-3): each property, operator and value checked against the
    catalogue (domain/deal_properties.py); the caller's own deals unless an `owner_id` filter
    names others. Raises as `list_deals`, and InvalidInput naming the filter or sort field."""
    filters = tuple(parse_filter(i, *f) for i, f in enumerate(search.filters))
    request = DealList(
        view=search.view,
        owner_ids=owners_of_search(actor, filters),
        filters=filters,
        sort=parse_sort(*search.sort),
    )
    return await list_deals(session, actor, request, limit=limit, cursor=cursor, now=now)


# -- Stage norms -------------------------------------------------------------------------------


async def stage_norms(
    session: AsyncSession, stage_ids: Sequence[int], now: datetime
) -> dict[int, StageNorm]:
    """Each stage's norm (domain/deals.py), from the kept figures while they are younger than
    NORM_MAX_AGE; older or missing ones are computed again from the history and kept."""
    stored = await deals_repo.stored_norms(session, stage_ids)
    stale = [s for s in stage_ids if s not in stored or now - stored[s].computed_at > NORM_MAX_AGE]
    fresh = await deals_repo.stage_exits(session, stale, now - NORM_WINDOW) if stale else {}
    await deals_repo.save_norms(session, fresh, now)
    figures = {s: (n.samples, n.median_seconds) for s, n in stored.items()} | fresh
    return {s: stage_norm(*figures[s]) for s in stage_ids}


# -- Cursors -----------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def encode_cursor(sort: DealSort, deal: Deal) -> str:
    """The position after `deal` in `sort` order: the sort, its value and the deal's id."""
    raw = {
        "p": sort.property.value,
        "d": sort.direction.value,
        "v": _json_value(deals_repo.sort_value(deal, sort)),
        "i": deal.id,
    }
    text = json.dumps(raw, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, sort: DealSort) -> tuple[Any, int] | None:
    """The (value, id) a cursor holds. Raises InvalidInput (`cursor`: `format` for anything
    this API did not hand out, `sort` for a cursor of another sort order)."""
    if cursor is None:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
        if not isinstance(raw, dict) or set(raw) != {"p", "d", "v", "i"}:
            raise ValueError(raw)
        last_id = raw["i"]
        if not isinstance(last_id, int) or isinstance(last_id, bool):
            raise ValueError(raw)
        if not 0 <= last_id <= INT_MAX:
            raise ValueError(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid("cursor", "format", "cursor is not one this API returned") from None
    if (raw["p"], raw["d"]) != (sort.property.value, sort.direction.value):
        raise invalid("cursor", "sort", "the cursor was handed out for another sort order")
    if raw["v"] is None:
        return None, last_id
    try:
        return parse_value(CATALOGUE[sort.property].type, raw["v"], "cursor"), last_id
    except InvalidInput:
        raise invalid("cursor", "format", "cursor is not one this API returned") from None


# -- Columns (DEAL-4) --------------------------------------------------------------------------


async def _columns_of(session: AsyncSession, actor: User) -> tuple[DealProperty, ...]:
    saved = await deals_repo.saved_columns(session, actor.id)
    known = set(DealProperty)
    # A property dropped from the catalogue since is dropped from the choice too.
    kept = tuple(DealProperty(c) for c in saved or () if c in known)
    return kept or DEFAULT_COLUMNS


async def deal_columns(session: AsyncSession, actor: User) -> tuple[DealProperty, ...]:
    """The caller's columns, in order; the defaults until they choose. Raises Forbidden,
    SeatRequired."""
    require_workspace(actor, "reading deal columns")
    async with session.begin():
        return await _columns_of(session, actor)


async def save_deal_columns(
    session: AsyncSession, actor: User, names: list[str]
) -> tuple[DealProperty, ...]:
    """Replace the caller's columns. Raises Forbidden, SeatRequired, InvalidInput (an unknown
    or repeated property, none or too many)."""
    require_workspace(actor, "choosing deal columns")
    columns = parse_columns(names)
    async with session.begin():
        await deals_repo.save_columns(session, actor.id, [c.value for c in columns])
    return columns


# -- One deal ----------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def engagement_of(activity: Activity, meeting: Meeting | None, call: Call | None) -> Engagement:
    """An activity as insights read it, with its meeting's or call's current state."""
    kind = EngagementType(activity.type)
    details = activity.details or {}
    subject = body = outcome = status = None
    start = None
    booked = False
    if kind in (EngagementType.EMAIL_SENT, EngagementType.EMAIL_REPLY):
        email = details.get("email") or {}
        subject, body = _text(email.get("subject")), _text(email.get("body"))
    elif kind == EngagementType.NOTE:
        body = _text((details.get("note") or {}).get("body"))
    elif kind == EngagementType.MEETING and meeting is not None:
        subject, body, outcome = meeting.title, meeting.notes, meeting.outcome
        start, booked = meeting.start, meeting.booked_by_contact
    elif kind == EngagementType.CALL and call is not None:
        outcome, status = call.outcome, call.status
    return Engagement(
        activity_id=activity.id,
        type=kind,
        occurred_at=activity.occurred_at,
        user_id=activity.user_id,
        subject=subject,
        body=body,
        outcome=outcome,
        status=status,
        start=start,
        booked_by_contact=booked,
    )


async def visible_engagements(
    session: AsyncSession, actor: User, deal: Deal, most: int
) -> list[Engagement]:
    """The deal's newest meetings, notes, emails and calls the caller may see, at most `most`,
    newest first: on the deal, or on its contact without a deal. A meeting or call with
    several activities (made, then its outcome set) counts once, as its newest; busy blocks
    are nobody's engagement."""
    rows = await insights_repo.deal_engagements(
        session,
        deal_id=deal.id,
        contact_id=deal.contact_id,
        types=ENGAGEMENT_TYPES,
        logged_by=visibility.activities_logged_by(actor),
        # Room for the repeats that are dropped.
        limit=2 * most,
    )
    seen: set[tuple[str, int]] = set()
    found: list[Engagement] = []
    for activity, meeting, call in rows:
        if meeting is not None and meeting.kind == "busy":
            continue
        record = (
            ("meeting", activity.meeting_id)
            if activity.meeting_id is not None
            else ("call", activity.call_id)
            if activity.call_id is not None
            else None
        )
        if record is not None:
            if record in seen:
                continue
            seen.add(record)
        found.append(engagement_of(activity, meeting, call))
        if len(found) == most:
            break
    return found


async def follow_up(
    session: AsyncSession, actor: User, deal: Deal, now: datetime
) -> FollowUp | None:
    """The next thing scheduled on the deal that the caller may see: the earlier of its next
    future meeting and its first open task (by due time; a task without one comes after a
    meeting)."""
    owner = visibility.activities_logged_by(actor)
    meeting = await deals_repo.next_meeting(session, deal.id, now, owner)
    task = await deals_repo.next_open_task(session, deal.id, owner)
    if meeting is not None and (
        task is None or task.due_at is None or meeting.start <= task.due_at
    ):
        return FollowUp("meeting", meeting.id, meeting.start, meeting.title)
    if task is not None:
        return FollowUp("task", task.id, task.due_at, task.title)
    return None


@dataclass(frozen=True)
class DealOverview:
    deal: Deal
    pipeline: Pipeline
    stage: Stage
    owner: User | None
    contact: Contact | None
    last_activity: Engagement | None
    next_activity: FollowUp | None
    days_in_stage: int
    norm: StageNorm
    stalled: bool


async def deal_overview(
    session: AsyncSession, actor: User, deal_id: int, *, now: datetime | None = None
) -> DealOverview:
    """The deal's key fields, its last and next activity the caller may see, its contact and
    whether it is stalled (DEAL-5). Raises Forbidden, SeatRequired, NotFound."""
    now = now or datetime.now(UTC)
    async with session.begin():
        deal = await admit_deal(session, actor, deal_id, "reading a deal overview")
        pipeline = await pipelines_repo.get(session, deal.pipeline_id)
        stage = await pipelines_repo.get_stage(session, deal.stage_id)
        assert pipeline is not None and stage is not None  # foreign keys
        owner = await records.get(session, User, deal.owner_id) if deal.owner_id else None
        contact = await records.get(session, Contact, deal.contact_id) if deal.contact_id else None
        last = await visible_engagements(session, actor, deal, 1)
        upcoming = await follow_up(session, actor, deal, now)
        norm = (await stage_norms(session, [deal.stage_id], now))[deal.stage_id]
    return DealOverview(
        deal=deal,
        pipeline=pipeline,
        stage=stage,
        owner=owner,
        contact=contact,
        last_activity=last[0] if last else None,
        next_activity=upcoming,
        days_in_stage=days_between(deal.stage_entered_at, now),
        norm=norm,
        stalled=stage.kind == DealStageKind.OPEN and is_stalled(deal.stage_entered_at, now, norm),
    )
