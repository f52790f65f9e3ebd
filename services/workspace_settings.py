"""The workspace switch (PERM-9): the sales workspace is a beta an account turns on or off."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User, WorkspaceSettingsRow
from db.repositories import workspace as workspace_repo
from domain.errors import NotFound
from domain.roles import ADMINS, EVERYONE
from services import audit
from services.account_switches import save_switch
from services.auth import require_role


@dataclass(frozen=True)
class WorkspaceSettings:
    enabled: bool = True


async def require_enabled(session: AsyncSession) -> None:
    """Raises NotFound while the workspace is switched off: its endpoints are not there."""
    if not await workspace_repo.is_enabled(session):
        raise NotFound("the sales workspace is switched off for this account")


async def read_settings(session: AsyncSession, actor: User) -> WorkspaceSettings:
    require_role(actor, EVERYONE, "reading the workspace settings")
    return WorkspaceSettings(enabled=await workspace_repo.is_enabled(session))


async def save_settings(
    session: AsyncSession, actor: User, settings: WorkspaceSettings
) -> WorkspaceSettings:
    """Replace the settings. Raises Forbidden (not an admin)."""
    require_role(actor, ADMINS, "changing the workspace settings")
    async with session.begin():
        await save_switch(
            session,
            actor,
            WorkspaceSettingsRow,
            "enabled",
            settings.enabled,
            audit.Entity.WORKSPACE_SETTINGS,
        )
    return settings
