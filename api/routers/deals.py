from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import AuthFirstRoute, CurrentUser, RecordEditor, SessionDep
from api.problems import PROBLEM_RESPONSES
from api.schemas.common import PageOf
from api.schemas.deals import DealCreate, DealRead, DealUpdate
from api.schemas.fields import Cursor, PathId, QueryId
from services import deals
from services.pagination import DEFAULT_LIMIT, page_request

router = APIRouter(
    route_class=AuthFirstRoute, prefix="/deals", tags=["deals"], responses=PROBLEM_RESPONSES
)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DealRead)
async def create_deal(body: DealCreate, session: SessionDep, actor: RecordEditor) -> DealRead:
    return DealRead.model_validate(await deals.create_deal(session, actor, body.model_dump()))


@router.get("", response_model=PageOf[DealRead])
async def list_deals(
    session: SessionDep,
    actor: CurrentUser,
    owner_id: QueryId = None,
    pipeline_id: QueryId = None,
    limit: Annotated[int, Query(ge=1, le=500)] = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOf[DealRead]:
    page = await deals.list_deals(
        session, owner_id=owner_id, pipeline_id=pipeline_id, page=page_request(limit, cursor)
    )
    return PageOf[DealRead].model_validate(page)


@router.get("/{deal_id}", response_model=DealRead)
async def get_deal(deal_id: PathId, session: SessionDep, actor: CurrentUser) -> DealRead:
    return DealRead.model_validate(await deals.get_deal(session, deal_id))


@router.patch("/{deal_id}", response_model=DealRead)
async def update_deal(
    deal_id: PathId, body: DealUpdate, session: SessionDep, actor: RecordEditor
) -> DealRead:
    deal = await deals.update_deal(session, actor, deal_id, body.model_dump(exclude_unset=True))
    return DealRead.model_validate(deal)
