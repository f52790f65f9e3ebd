from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import Admin, AuthFirstRoute, CurrentUser, SessionDep
from api.problems import PROBLEM_RESPONSES
from api.schemas.common import PageOf
from api.schemas.fields import Cursor, PathId
from api.schemas.users import (
    OwnSettingsUpdate,
    UserCreate,
    UserCreated,
    UserRead,
    UserSummary,
    UserUpdate,
)
from db.models import User
from services import users
from services.pagination import DEFAULT_LIMIT, page_request
from services.users import NewUser, sees_details_of

router = APIRouter(
    route_class=AuthFirstRoute, prefix="/users", tags=["users"], responses=PROBLEM_RESPONSES
)


def _as_seen_by(actor: User, user: User) -> UserRead | UserSummary:
    if sees_details_of(actor, user):
        return UserRead.model_validate(user)
    return UserSummary.model_validate(user)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserCreated,
    summary="Create a user (admins)",
)
async def create_user(body: UserCreate, session: SessionDep, actor: Admin) -> UserCreated:
    user, token = await users.create_user(session, actor, NewUser(**body.model_dump()))
    return UserCreated.model_validate(
        {**UserRead.model_validate(user).model_dump(), "token": token}
    )


@router.get(
    "",
    response_model=PageOf[UserRead | UserSummary],
    summary="List users, by id",
    description="Any signed-in caller, so that owner ids can be named: `id`, `name`, `role`, "
    "`active`. Admins also see `email`, `seat`, `time_zone`, `permissions` and "
    "`task_settings`.",
)
async def list_users(
    session: SessionDep,
    actor: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=500)] = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOf[UserRead | UserSummary]:
    page = await users.list_users(session, actor, page_request(limit, cursor))
    return PageOf[UserRead | UserSummary](
        items=[_as_seen_by(actor, u) for u in page.items], next_cursor=page.next_cursor
    )


@router.get("/me", response_model=UserRead, summary="The caller")
async def me(actor: CurrentUser) -> UserRead:
    return UserRead.model_validate(actor)


@router.patch(
    "/me",
    response_model=UserRead,
    summary="Change one's own name, time zone and task settings",
    description="`time_zone` is an IANA name; `task_settings.prompt_follow_up_on_complete: "
    "false` stops completions from offering a follow-up task (WS-7).",
)
async def update_me(body: OwnSettingsUpdate, session: SessionDep, actor: CurrentUser) -> UserRead:
    user = await users.update_me(session, actor, body.model_dump(exclude_unset=True))
    return UserRead.model_validate(user)


@router.get(
    "/{user_id}",
    response_model=UserRead | UserSummary,
    summary="One user",
    description="As in the list: the details to admins and to the user themselves.",
)
async def get_user(
    user_id: PathId, session: SessionDep, actor: CurrentUser
) -> UserRead | UserSummary:
    return _as_seen_by(actor, await users.get_user(session, actor, user_id))


@router.patch(
    "/{user_id}",
    response_model=UserRead,
    summary="Change a user (admins)",
    description="Only a super_admin grants super_admin or changes a super_admin. Nobody "
    "deactivates themselves or changes their own role (409). A deactivated user's token "
    "answers 401 from then on.",
)
async def update_user(
    user_id: PathId, body: UserUpdate, session: SessionDep, actor: Admin
) -> UserRead:
    user = await users.update_user(session, actor, user_id, body.model_dump(exclude_unset=True))
    return UserRead.model_validate(user)
