"""Account-wide lead settings (SET-1, QUA-1, DIS-1)."""

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import LeadSettingsRow, User
from db.repositories import lead_config as config_repo
from domain.errors import InvalidInput
from domain.lead_settings import (
    CreateLeadOnLifecycle,
    LeadSettings,
    SetLifecycleOnAssociate,
    validate_settings,
)
from domain.lifecycle import LifecycleStage
from domain.roles import ADMINS
from services import audit
from services.auth import require_role


async def load_settings(session: AsyncSession) -> LeadSettings:
    """The settings in force, read in the caller's transaction (stage moves, contact changes)."""
    row = await config_repo.get_settings(session)
    return LeadSettings() if row is None else _to_settings(row)


async def read_settings(session: AsyncSession) -> LeadSettings:
    async with session.begin():
        return await load_settings(session)


async def save_settings(session: AsyncSession, actor: User, settings: LeadSettings) -> LeadSettings:
    """Replace the settings as a whole (SET-1: all or nothing).

    Raises Forbidden (not an admin), InvalidInput listing every broken rule (SET-2, SET-6).
    """
    require_role(actor, ADMINS, "changing lead settings")
    errors = validate_settings(settings)
    if errors:
        raise InvalidInput("; ".join(e.message for e in errors), errors)
    async with session.begin():
        row = await config_repo.get_settings(session, for_update=True)
        if row is None:
            row = await config_repo.add_settings(session, LeadSettingsRow(id=1))
            before = LeadSettings()
        else:
            before = _to_settings(row)
        create = settings.create_lead_on_lifecycle
        associate = settings.set_lifecycle_on_associate
        row.create_lead_on_lifecycle_enabled = create.enabled
        row.create_lead_on_lifecycle_stages = [s.value for s in create.stages]
        row.set_lifecycle_on_associate_enabled = associate.enabled
        row.set_lifecycle_on_associate_stage = associate.stage.value if associate.stage else None
        row.require_deal_on_qualify = settings.require_deal_on_qualify
        row.require_disqualification_reason = settings.require_disqualification_reason
        row.updated_by_id = actor.id
        await audit.record(
            session,
            actor,
            audit.Entity.LEAD_SETTINGS,
            None,
            audit.Action.UPDATE,
            before=before.model_dump(mode="json"),
            after=settings.model_dump(mode="json"),
        )
    return settings


def _to_settings(row: LeadSettingsRow) -> LeadSettings:
    return LeadSettings(
        create_lead_on_lifecycle=CreateLeadOnLifecycle(
            enabled=row.create_lead_on_lifecycle_enabled,
            stages=tuple(LifecycleStage(s) for s in row.create_lead_on_lifecycle_stages),
        ),
        set_lifecycle_on_associate=SetLifecycleOnAssociate(
            enabled=row.set_lifecycle_on_associate_enabled,
            stage=(
                LifecycleStage(row.set_lifecycle_on_associate_stage)
                if row.set_lifecycle_on_associate_stage
                else None
            ),
        ),
        require_deal_on_qualify=row.require_deal_on_qualify,
        require_disqualification_reason=row.require_disqualification_reason,
    )
