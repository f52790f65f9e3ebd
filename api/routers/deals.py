"""Deals as CRM records: create, read and change them under the caller's deal visibility
(PERM-7). The deals tab's list is in api/routers/deals_tab.py."""

from fastapi import APIRouter, status

from api.deps import AuthFirstRoute, CurrentUser, KnownQuery, RecordEditor, SessionDep
from api.problems import PROBLEM_RESPONSES
from api.schemas.deals import DealCreate, DealRead, DealUpdate
from api.schemas.fields import PathId
from services import deals

router = APIRouter(
    route_class=AuthFirstRoute, prefix="/deals", tags=["deals"], responses=PROBLEM_RESPONSES
)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DealRead)
async def create_deal(body: DealCreate, session: SessionDep, actor: RecordEditor) -> DealRead:
    return DealRead.model_validate(await deals.create_deal(session, actor, body.model_dump()))


@router.get("/{deal_id}", response_model=DealRead)
async def get_deal(
    deal_id: PathId, session: SessionDep, actor: CurrentUser, _: KnownQuery
) -> DealRead:
    """404 for a deal the caller's deal visibility hides, as for a missing one."""
    return DealRead.model_validate(await deals.get_deal(session, actor, deal_id))


@router.patch(
    "/{deal_id}",
    response_model=DealRead,
    description="The deal overview's stage update and close date edit (DEAL-5) too: each new "
    "stage or close date is kept in the deal's history.",
)
async def update_deal(
    deal_id: PathId, body: DealUpdate, session: SessionDep, actor: RecordEditor
) -> DealRead:
    deal = await deals.update_deal(session, actor, deal_id, body.model_dump(exclude_unset=True))
    return DealRead.model_validate(deal)
