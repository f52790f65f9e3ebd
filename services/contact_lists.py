"""Static contact lists: admins create them, everyone reads them and their members; members
are added and removed by the chain actions `add_to_list` and `remove_from_list`."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ContactList, User
from db.repositories import contact_lists as lists_repo
from domain.errors import NotFound, conflict
from domain.roles import ADMINS, EVERYONE
from services.auth import require_role
from services.pagination import Page, PageRequest, to_page


@dataclass(frozen=True)
class Member:
    contact_id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    added_at: datetime


async def create_list(session: AsyncSession, actor: User, name: str) -> ContactList:
    """Raises Forbidden (not an admin), Conflict (the name is taken)."""
    require_role(actor, ADMINS, "creating lists")
    async with session.begin():
        if await lists_repo.get_by_name(session, name) is not None:
            raise conflict("name", "unique", f"a list named {name!r} already exists")
        contact_list = await lists_repo.add(session, ContactList(name=name, created_by_id=actor.id))
    return contact_list


async def list_lists(session: AsyncSession, actor: User, page: PageRequest) -> Page[ContactList]:
    require_role(actor, EVERYONE, "listing lists")
    rows = await lists_repo.list_lists(session, after_id=page.after_id, limit=page.limit + 1)
    return to_page(rows, page, lambda c: c.id)


async def get_list(session: AsyncSession, actor: User, list_id: int) -> ContactList:
    """Raises NotFound."""
    require_role(actor, EVERYONE, "reading lists")
    contact_list = await lists_repo.get(session, list_id)
    if contact_list is None:
        raise NotFound(f"list {list_id} does not exist")
    return contact_list


async def list_members(
    session: AsyncSession, actor: User, list_id: int, page: PageRequest
) -> Page[Member]:
    """The list's members by contact id. Raises NotFound (no such list)."""
    require_role(actor, EVERYONE, "reading list members")
    async with session.begin():
        if await lists_repo.get(session, list_id) is None:
            raise NotFound(f"list {list_id} does not exist")
        rows: Sequence[Member] = [
            Member(c.id, c.first_name, c.last_name, c.email, m.added_at)
            for m, c in await lists_repo.members(
                session, list_id, after_contact_id=page.after_id, limit=page.limit + 1
            )
        ]
    return to_page(rows, page, lambda m: m.contact_id)
