"""Account-wide on/off switches kept in a single-row table (the workspace, deal insights)."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from db.repositories import account_switches as switches_repo
from services import audit


async def save_switch(
    session: AsyncSession,
    actor: User,
    row_type: type[Any],
    column: str,
    value: bool,
    entity: audit.Entity,
) -> None:
    """Set the switch `column` of the account's one `row_type` row (made on first save), in
    the caller's transaction; audited when it changes."""
    row: Any = await switches_repo.locked_row(session, row_type) or await switches_repo.add_row(
        session, row_type(id=1)
    )
    before = getattr(row, column)
    setattr(row, column, value)
    row.updated_by_id = actor.id
    await session.flush()
    if before != value:
        await audit.record(
            session,
            actor,
            entity,
            None,
            audit.Action.UPDATE,
            before={column: before},
            after={column: value},
        )
