"""Users, their API tokens, their permissions and their own settings."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from db.repositories import users as users_repo
from domain.errors import Forbidden, NotFound, conflict
from domain.roles import ADMINS, EVERYONE, Role, may_create_role, user_change_refusal
from services import audit
from services.auth import hash_token, new_token, require_role
from services.pagination import Page, PageRequest, to_page

# What `update_user` records in the audit log, before and after.
_AUDITED = ("name", "role", "seat", "time_zone", "active", "deal_visibility", "activity_visibility")


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
        # The start-up token is the way back in: it signs in even after a deactivation.
        user.active = True
    return user


def sees_details_of(actor: User, user: User) -> bool:
    """Admins see every user's email, seat, time zone and permissions; others their own only."""
    return actor.id == user.id or Role(actor.role) in ADMINS


async def list_users(session: AsyncSession, actor: User, page: PageRequest) -> Page[User]:
    """Every user, by id, so that ids in other answers can be named. Any signed-in caller."""
    require_role(actor, EVERYONE, "listing users")
    rows = await users_repo.list_users(session, after_id=page.after_id, limit=page.limit + 1)
    return to_page(rows, page, lambda u: u.id)


async def get_user(session: AsyncSession, actor: User, user_id: int) -> User:
    """Raises NotFound."""
    require_role(actor, EVERYONE, "reading users")
    user = await users_repo.get(session, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


async def update_user(
    session: AsyncSession, actor: User, user_id: int, values: dict[str, Any]
) -> User:
    """Change the fields given: name, role, seat, time_zone, active, permissions (a partial
    `{"deals", "activities"}`). Recorded in the audit log.

    Raises Forbidden (not an admin; an admin changing a super admin or granting
    super_admin), NotFound, Conflict (deactivating oneself or changing one's own role: the
    account would lose the admin making the change).
    """
    require_role(actor, ADMINS, "changing users")
    async with session.begin():
        user = await users_repo.get(session, user_id, for_update=True)
        if user is None:
            raise NotFound(f"user {user_id} does not exist")
        new_role = Role(values["role"]) if values.get("role") is not None else None
        refusal = user_change_refusal(Role(actor.role), Role(user.role), new_role)
        if refusal is not None:
            raise Forbidden(refusal)
        if user.id == actor.id:
            if values.get("active") is False:
                raise conflict("active", "not_self", "you may not deactivate yourself")
            if new_role is not None and new_role != user.role:
                raise conflict("role", "not_self", "you may not change your own role")
        before = {name: getattr(user, name) for name in _AUDITED}
        for name in ("name", "seat", "time_zone", "active"):
            if name in values:
                setattr(user, name, values[name])
        if new_role is not None:
            user.role = new_role.value
        permissions = values.get("permissions") or {}
        if permissions.get("deals") is not None:
            user.deal_visibility = str(permissions["deals"])
        if permissions.get("activities") is not None:
            user.activity_visibility = str(permissions["activities"])
        after = {name: getattr(user, name) for name in _AUDITED}
        if after != before:
            await audit.record(
                session,
                actor,
                audit.Entity.USER,
                user.id,
                audit.Action.UPDATE,
                before=before,
                after=after,
            )
    return user


async def update_me(session: AsyncSession, actor: User, values: dict[str, Any]) -> User:
    """Change the caller's own name, time_zone and task_settings (a partial
    `{"prompt_follow_up_on_complete"}`, WS-7)."""
    require_role(actor, EVERYONE, "changing one's own settings")
    async with session.begin():
        user = await users_repo.get(session, actor.id, for_update=True)
        if user is None:  # deleted since the token was checked
            raise NotFound(f"user {actor.id} does not exist")
        for name in ("name", "time_zone"):
            if name in values:
                setattr(user, name, values[name])
        prompt = (values.get("task_settings") or {}).get("prompt_follow_up_on_complete")
        if prompt is not None:
            user.prompt_follow_up_on_complete = prompt
    return user
