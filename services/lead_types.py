"""Lead types: a configurable per-account list (AUT-11); leads and rules name them by key."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import LeadType, User
from db.repositories import lead_config as config_repo
from domain.errors import Conflict, NotFound, conflict, invalid
from domain.lead_types import key_for
from domain.roles import ADMINS
from services import audit, automation
from services.auth import require_role


async def list_lead_types(session: AsyncSession) -> Sequence[LeadType]:
    async with session.begin():
        return await config_repo.active_lead_types(session)


async def get_lead_type(session: AsyncSession, type_id: int) -> LeadType:
    """A lead type, a removed one too (leads of that type keep its key)."""
    lead_type = await config_repo.get_lead_type(session, type_id)
    if lead_type is None:
        raise NotFound(f"lead type {type_id} does not exist")
    return lead_type


async def create_lead_type(session: AsyncSession, actor: User, label: str) -> LeadType:
    """Add a type; its key is a slug of the label, never reused even after removal.

    Raises Forbidden, InvalidInput (empty label), Conflict (label taken).
    """
    require_role(actor, ADMINS, "adding lead types")
    label = _label(label)
    async with session.begin():
        await _require_unique(session, label)
        base = key_for(label)
        key = key_for(label, await config_repo.lead_type_keys_like(session, base))
        lead_type = await config_repo.add_lead_type(session, LeadType(key=key, label=label))
        await audit.record(
            session,
            actor,
            audit.Entity.LEAD_TYPE,
            lead_type.id,
            audit.Action.CREATE,
            after=lead_type_record(lead_type),
        )
    return lead_type


async def rename_lead_type(
    session: AsyncSession, actor: User, type_id: int, label: str
) -> LeadType:
    """Change the label; the key stays, so leads and rules keep their type.

    Raises Forbidden, NotFound, InvalidInput (empty label), Conflict (label taken, removed).
    """
    require_role(actor, ADMINS, "renaming lead types")
    label = _label(label)
    async with session.begin():
        lead_type = await _active(session, type_id)
        await _require_unique(session, label, other_than=lead_type.id)
        before = lead_type_record(lead_type)
        lead_type.label = label
        await session.flush()
        await audit.record(
            session,
            actor,
            audit.Entity.LEAD_TYPE,
            lead_type.id,
            audit.Action.UPDATE,
            before=before,
            after=lead_type_record(lead_type),
        )
    return lead_type


async def remove_lead_type(session: AsyncSession, actor: User, type_id: int) -> None:
    """Remove a type: new leads and rules can no longer name it; existing leads keep it.

    Raises Forbidden, NotFound, Conflict (already removed, or a follow-up rule creates leads of
    this type: the pipelines are named).
    """
    require_role(actor, ADMINS, "removing lead types")
    async with session.begin():
        lead_type = await _active(session, type_id)
        pipelines = await automation.pipelines_using_lead_type(session, lead_type.key)
        if pipelines:
            raise Conflict(
                f"lead type {lead_type.label!r} is used by the follow_up_on_disqualify rule of "
                f"pipeline {', '.join(str(p) for p in pipelines)}: change the rule first"
            )
        before = lead_type_record(lead_type)
        lead_type.removed_at = datetime.now(UTC)
        await session.flush()
        await audit.record(
            session,
            actor,
            audit.Entity.LEAD_TYPE,
            lead_type.id,
            audit.Action.DELETE,
            before=before,
            after=lead_type_record(lead_type),
        )


def lead_type_record(lead_type: LeadType) -> dict[str, Any]:
    return {
        "id": lead_type.id,
        "key": lead_type.key,
        "label": lead_type.label,
        "removed": lead_type.removed_at is not None,
    }


async def _active(session: AsyncSession, type_id: int) -> LeadType:
    lead_type = await config_repo.get_lead_type(session, type_id, for_update=True)
    if lead_type is None:
        raise NotFound(f"lead type {type_id} does not exist")
    if lead_type.removed_at is not None:
        raise Conflict(f"lead type {lead_type.label!r} was removed")
    return lead_type


async def _require_unique(session: AsyncSession, label: str, other_than: int | None = None) -> None:
    if await config_repo.active_lead_type_with_label(session, label, other_than=other_than):
        raise conflict("label", "unique", f"a lead type named {label!r} already exists")


def _label(value: str) -> str:
    label = value.strip()
    if not label:
        raise invalid("label", "not_empty", "label must not be empty")
    return label
