"""Bearer tokens: issued once, stored only as a hash."""

import hashlib
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from db.repositories import users as users_repo
from domain.errors import Forbidden, Unauthorized
from domain.roles import Role


def new_token() -> str:
    return "lp_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def authenticate(session: AsyncSession, token: str | None) -> User:
    """The user a bearer token belongs to. Raises Unauthorized for a missing or unknown token."""
    if not token:
        raise Unauthorized("send 'Authorization: Bearer <token>'")
    user = await users_repo.get_by_token_hash(session, hash_token(token))
    if user is None:
        raise Unauthorized("the bearer token is not valid")
    return user


def require_role(user: User, allowed: frozenset[Role], action: str) -> None:
    if Role(user.role) not in allowed:
        roles = ", ".join(sorted(r.value for r in allowed))
        raise Forbidden(f"{action} needs one of the roles: {roles}; you are {user.role}")
