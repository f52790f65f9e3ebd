from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import WorkspaceSettingsRow


async def get_settings(
    session: AsyncSession, *, for_update: bool = False
) -> WorkspaceSettingsRow | None:
    return await session.get(WorkspaceSettingsRow, 1, with_for_update=for_update)


async def is_enabled(session: AsyncSession) -> bool:
    """The switch in force; on when it was never saved."""
    enabled = await session.scalar(
        select(WorkspaceSettingsRow.enabled).where(WorkspaceSettingsRow.id == 1)
    )
    return True if enabled is None else enabled


async def add_settings(session: AsyncSession, row: WorkspaceSettingsRow) -> WorkspaceSettingsRow:
    session.add(row)
    await session.flush()
    return row
