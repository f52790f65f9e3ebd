"""Bearer tokens: issued once, stored only as a hash."""

import hashlib
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from db.repositories import users as users_repo
from domain.errors import Forbidden, SeatRequired, Unauthorized
from domain.roles import (
    WORKSPACE_ROLES,
    Role,
    Seat,
    has_workspace,
    may_view_workspace_of_others,
)


def new_token() -> str:
    return "lp_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def authenticate(session: AsyncSession, token: str | None) -> User:
    """The active user a bearer token belongs to. Raises Unauthorized for a missing or unknown
    token, or the token of a deactivated user."""
    if not token:
        raise Unauthorized("send 'Authorization: Bearer <token>'")
    user = await users_repo.get_by_token_hash(session, hash_token(token))
    if user is None:
        raise Unauthorized("the bearer token is not valid")
    if not user.active:
        raise Unauthorized("the bearer token belongs to a deactivated user")
    return user


def require_role(user: User, allowed: frozenset[Role], action: str) -> None:
    """Raises Forbidden unless the user's role is one of `allowed`."""
    if Role(user.role) not in allowed:
        roles = ", ".join(sorted(r.value for r in allowed))
        raise Forbidden(f"{action} needs one of the roles: {roles}; you are {user.role}")


def require_workspace(user: User, action: str, *, owner_id: int | None = None) -> None:
    """The user may act in the workspace of `owner_id` (their own if None).

    Raises Forbidden (role; another user's workspace without PERM-4) or SeatRequired (PERM-3:
    one's own workspace without a current seat).
    """
    require_role(user, WORKSPACE_ROLES, action)
    role = Role(user.role)
    if owner_id is not None and owner_id != user.id:
        if not may_view_workspace_of_others(role):
            raise Forbidden(f"{action}: only a super_admin may act in another user's workspace")
        return
    seat = Seat(user.seat) if user.seat else None
    if not has_workspace(role, seat):
        raise SeatRequired(f"{action} needs a current sales seat; yours is {user.seat or 'none'}")


def admit_to_workspace(user: User, action: str) -> None:
    """What `require_workspace` decides before knowing whose workspace: a super admin may
    view others' without a seat, so only the service can refuse them."""
    if may_view_workspace_of_others(Role(user.role)):
        return
    require_workspace(user, action)
