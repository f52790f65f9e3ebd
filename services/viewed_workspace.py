"""Whose workspace a read is of (PERM-3, PERM-4): the caller's own, which needs a current
seat, or, for a super admin only, the user named by `user_id`. Every workspace read (summary,
schedule, leads board, guided actions) asks here."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from db.repositories import records
from domain.errors import NotFound
from services.auth import require_workspace


@dataclass(frozen=True)
class Viewed:
    """Whose workspace is read; `redacted`: another user's, so meetings show as Busy (PERM-5)."""

    user: User
    redacted: bool


async def viewed_workspace(
    session: AsyncSession, actor: User, user_id: int | None, action: str
) -> Viewed:
    """Raises Forbidden (role; another user's workspace unless a super admin, PERM-4),
    SeatRequired (one's own without a current seat, PERM-3), NotFound (no such user)."""
    require_workspace(actor, action, owner_id=user_id)
    if user_id is None or user_id == actor.id:
        return Viewed(actor, redacted=False)
    user = await records.get(session, User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return Viewed(user, redacted=True)
