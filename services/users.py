"""Users and their API tokens."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from db.repositories import users as users_repo
from domain.errors import Forbidden, conflict
from domain.roles import ADMINS, Role, may_create_role
from services.auth import hash_token, new_token, require_role


@dataclass(frozen=True)
class NewUser:
    email: str
    name: str
    role: Role
    seat: str | None = None
    time_zone: str = "UTC"


async def create_user(session: AsyncSession, actor: User, data: NewUser) -> tuple[User, str]:
    """Create a user and return it with its bearer token, which is never readable again.

    Raises Forbidden (not an admin, or an admin making a super admin), Conflict (email taken).
    """
    require_role(actor, ADMINS, "creating users")
    if not may_create_role(Role(actor.role), data.role):
        raise Forbidden("only a super_admin may create another super_admin")
    async with session.begin():
        if await users_repo.get_by_email(session, data.email.lower()) is not None:
            raise conflict("email", "unique", f"a user with email {data.email} already exists")
        token = new_token()
        user = await users_repo.add(
            session,
            User(
                email=data.email.lower(),
                name=data.name,
                role=data.role.value,
                seat=data.seat,
                time_zone=data.time_zone,
                token_hash=hash_token(token),
            ),
        )
    return user, token


async def ensure_super_admin(session: AsyncSession, token: str) -> User:
    """Make sure a super admin with this token exists (start-up with LEADPIPE_ADMIN_TOKEN)."""
    async with session.begin():
        user = await users_repo.get_by_token_hash(session, hash_token(token))
        if user is None:
            user = await users_repo.get_by_email(session, "admin@leadpipe.local")
            if user is None:
                user = User(
                    email="admin@leadpipe.local",
                    name="Administrator",
                    role=Role.SUPER_ADMIN.value,
                    token_hash=hash_token(token),
                )
                await users_repo.add(session, user)
            else:
                user.token_hash = hash_token(token)
                user.role = Role.SUPER_ADMIN.value
    return user
