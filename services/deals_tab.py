"""The deals tab (DEAL-1 to DEAL-4): the caller's open deals by view, quick and advanced
filters, and saved columns; who may read the tab and one deal of it. A deal's overview is in
services/deal_overviews.py.

PERM-3: the tab needs a current sales seat; a super admin looks at other users' deals without
one (as in the workspace, PERM-4). PERM-7: what is listed and counted comes from
services/visibility.py: another owner's deals need `deals: all`, and only the meetings and
tasks the caller may see count as scheduled.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Deal, User
from db.repositories import deals as deals_repo
from db.repositories import records
from domain.deal_properties import (
    DEFAULT_COLUMNS,
    DealFilter,
    DealProperty,
    DealSort,
    FilterOp,
    parse_columns,
    parse_filter,
    parse_sort,
)
from domain.deals import NORM_DEFAULT, DealView, StageNorm, month_of
from domain.roles import WORKSPACE_ROLES, Role, may_view_workspace_of_others
from services import visibility
from services.auth import require_role, require_workspace
from services.deal_cursors import decode_cursor, encode_cursor
from services.pagination import Page
from services.stage_norms import stage_norms


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
