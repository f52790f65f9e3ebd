from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import WorkspaceSettingsRow


async def is_enabled(session: AsyncSession) -> bool:
    """The switch in force; on when it was never saved."""
    enabled = await session.scalar(
        select(WorkspaceSettingsRow.enabled).where(WorkspaceSettingsRow.id == 1)
    )
    return True if enabled is None else enabled
