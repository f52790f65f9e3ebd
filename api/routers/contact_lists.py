from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import Admin, AuthFirstRoute, CurrentUser, SessionDep
from api.problems import PROBLEM_RESPONSES
from api.schemas.common import PageOf
from api.schemas.contact_lists import ContactListCreate, ContactListMemberRead, ContactListRead
from api.schemas.fields import Cursor, PathId
from services import contact_lists
from services.pagination import DEFAULT_LIMIT, page_request

router = APIRouter(
    route_class=AuthFirstRoute, prefix="/lists", tags=["lists"], responses=PROBLEM_RESPONSES
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ContactListRead,
    summary="Create a static contact list (admins)",
    description="Chain actions `add_to_list` and `remove_from_list` change its members.",
)
async def create_list(
    body: ContactListCreate, session: SessionDep, actor: Admin
) -> ContactListRead:
    return ContactListRead.model_validate(
        await contact_lists.create_list(session, actor, body.name)
    )


@router.get("", response_model=PageOf[ContactListRead], summary="List contact lists, by id")
async def list_lists(
    session: SessionDep,
    actor: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=500)] = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOf[ContactListRead]:
    page = await contact_lists.list_lists(session, actor, page_request(limit, cursor))
    return PageOf[ContactListRead](
        items=[ContactListRead.model_validate(c) for c in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/{list_id}", response_model=ContactListRead, summary="A contact list")
async def get_list(list_id: PathId, session: SessionDep, actor: CurrentUser) -> ContactListRead:
    return ContactListRead.model_validate(await contact_lists.get_list(session, actor, list_id))


@router.get(
    "/{list_id}/members",
    response_model=PageOf[ContactListMemberRead],
    summary="A list's members, by contact id",
)
async def list_members(
    list_id: PathId,
    session: SessionDep,
    actor: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=500)] = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOf[ContactListMemberRead]:
    page = await contact_lists.list_members(session, actor, list_id, page_request(limit, cursor))
    return PageOf[ContactListMemberRead](
        items=[ContactListMemberRead.model_validate(m) for m in page.items],
        next_cursor=page.next_cursor,
    )
