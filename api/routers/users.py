from fastapi import APIRouter, status

from api.deps import Admin, AuthFirstRoute, CurrentUser, SessionDep
from api.problems import PROBLEM_RESPONSES
from api.schemas.users import UserCreate, UserCreated, UserRead
from services import users
from services.users import NewUser

router = APIRouter(
    route_class=AuthFirstRoute, prefix="/users", tags=["users"], responses=PROBLEM_RESPONSES
)


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


@router.get("/me", response_model=UserRead, summary="The caller")
async def me(actor: CurrentUser) -> UserRead:
    return UserRead.model_validate(actor)
