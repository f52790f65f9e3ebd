"""The configuration audit log: who changed what, when, and the entity before and after."""

from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry, User
from db.repositories import audit as audit_repo
from domain.roles import ADMINS
from services.auth import require_role
from services.pagination import Page, PageRequest, encode_cursor


class Entity(StrEnum):
    LEAD_SETTINGS = "lead_settings"
    PIPELINE = "pipeline"
    STAGE = "stage"
    DISQUALIFICATION_REASON = "disqualification_reason"
    LEAD_TYPE = "lead_type"
    PIPELINE_AUTOMATION = "pipeline_automation"
    USER = "user"
    WORKSPACE_SETTINGS = "workspace_settings"
    AI_SETTINGS = "ai_settings"


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REORDER = "reorder"


async def record(
    session: AsyncSession,
    actor: User | None,
    entity: Entity,
    entity_id: int | None,
    action: Action,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add an entry in the caller's transaction: the change and its record commit together."""
    await audit_repo.add(
        session,
        AuditEntry(
            actor_id=actor.id if actor else None,
            entity=entity.value,
            entity_id=entity_id,
            action=action.value,
            before=before,
            after=after,
        ),
    )


async def list_entries(
    session: AsyncSession, actor: User, entity: Entity | None, page: PageRequest
) -> Page[AuditEntry]:
    """Newest first. Raises Forbidden for anyone but an admin."""
    require_role(actor, ADMINS, "reading the audit log")
    rows = await audit_repo.list_entries(
        session,
        entity=entity.value if entity else None,
        before_id=page.after_id,
        limit=page.limit + 1,
    )
    items = rows[: page.limit]
    has_more = len(rows) > page.limit
    return Page(items, encode_cursor(items[-1].id) if has_more and items else None)
