"""Disqualification reasons: one ordered list per account (DIS-5 to DIS-9)."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import DisqualificationReason, User
from db.repositories import lead_config as config_repo
from domain.errors import Conflict, NotFound, conflict, invalid
from domain.roles import ADMINS
from services import audit, automation
from services.auth import require_role


async def list_reasons(session: AsyncSession) -> Sequence[DisqualificationReason]:
    """The reasons that may be chosen, in the order offered."""
    async with session.begin():
        return await config_repo.active_reasons(session)


async def get_reason(session: AsyncSession, reason_id: int) -> DisqualificationReason:
    """A reason, a removed one too: leads disqualified with it still name it (DIS-8)."""
    reason = await config_repo.get_reason(session, reason_id)
    if reason is None:
        raise NotFound(f"disqualification reason {reason_id} does not exist")
    return reason


async def create_reason(
    session: AsyncSession, actor: User, label: str, position: int | None = None
) -> DisqualificationReason:
    """Add a reason at `position` (0 is first) or at the end (DIS-6).

    Raises Forbidden, InvalidInput (empty label, position out of range), Conflict (label taken).
    """
    require_role(actor, ADMINS, "adding disqualification reasons")
    label = _label(label)
    async with session.begin():
        reasons = list(await config_repo.active_reasons(session, for_update=True))
        _require_unique(reasons, label)
        at = len(reasons) if position is None else position
        if not 0 <= at <= len(reasons):
            raise invalid("position", "range", f"position must be from 0 to {len(reasons)}")
        reason = DisqualificationReason(label=label, position=at)
        reasons.insert(at, reason)
        _renumber(reasons)
        await config_repo.add_reason(session, reason)
        await audit.record(
            session,
            actor,
            audit.Entity.DISQUALIFICATION_REASON,
            reason.id,
            audit.Action.CREATE,
            after=reason_record(reason),
        )
    return reason


async def rename_reason(
    session: AsyncSession, actor: User, reason_id: int, label: str
) -> DisqualificationReason:
    """Rename a reason; its id stays, so leads naming it show the new label (DIS-6).

    Raises Forbidden, NotFound, InvalidInput (empty label), Conflict (label taken, removed).
    """
    require_role(actor, ADMINS, "renaming disqualification reasons")
    label = _label(label)
    async with session.begin():
        reasons = await config_repo.active_reasons(session, for_update=True)
        reason = await _active(session, reason_id)
        _require_unique([r for r in reasons if r.id != reason.id], label)
        before = reason_record(reason)
        reason.label = label
        await session.flush()
        await audit.record(
            session,
            actor,
            audit.Entity.DISQUALIFICATION_REASON,
            reason.id,
            audit.Action.UPDATE,
            before=before,
            after=reason_record(reason),
        )
    return reason


async def remove_reason(session: AsyncSession, actor: User, reason_id: int) -> None:
    """Remove a reason: it can no longer be chosen and leaves every follow-up rule (DIS-8).

    Raises Forbidden, NotFound, Conflict (already removed).
    """
    require_role(actor, ADMINS, "removing disqualification reasons")
    async with session.begin():
        reasons = await config_repo.active_reasons(session, for_update=True)
        reason = await _active(session, reason_id)
        before = reason_record(reason)
        reason.removed_at = datetime.now(UTC)
        _renumber([r for r in reasons if r.id != reason.id])
        await automation.drop_reason(session, actor, reason.id)
        await session.flush()
        await audit.record(
            session,
            actor,
            audit.Entity.DISQUALIFICATION_REASON,
            reason.id,
            audit.Action.DELETE,
            before=before,
            after=reason_record(reason),
        )


async def reorder_reasons(
    session: AsyncSession, actor: User, ids: Sequence[int]
) -> Sequence[DisqualificationReason]:
    """Put the reasons in the order of `ids` (DIS-7).

    Raises Forbidden, InvalidInput (not a permutation of the reasons that may be chosen).
    """
    require_role(actor, ADMINS, "reordering disqualification reasons")
    async with session.begin():
        reasons = await config_repo.active_reasons(session, for_update=True)
        by_id = {r.id: r for r in reasons}
        if len(ids) != len(by_id) or set(ids) != set(by_id):
            raise invalid(
                "ids",
                "permutation",
                "ids must list every disqualification reason exactly once; they are "
                + ", ".join(str(r.id) for r in reasons),
            )
        before = {"ids": [r.id for r in reasons]}
        ordered = [by_id[i] for i in ids]
        _renumber(ordered)
        await session.flush()
        await audit.record(
            session,
            actor,
            audit.Entity.DISQUALIFICATION_REASON,
            None,
            audit.Action.REORDER,
            before=before,
            after={"ids": list(ids)},
        )
    return ordered


def reason_record(reason: DisqualificationReason) -> dict[str, Any]:
    return {
        "id": reason.id,
        "label": reason.label,
        "position": reason.position,
        "removed": reason.removed_at is not None,
    }


async def _active(session: AsyncSession, reason_id: int) -> DisqualificationReason:
    reason = await get_reason(session, reason_id)
    if reason.removed_at is not None:
        raise Conflict(f"disqualification reason {reason.label!r} was removed")
    return reason


def _label(value: str) -> str:
    label = value.strip()
    if not label:
        raise invalid("label", "not_empty", "label must not be empty")
    return label


def _require_unique(reasons: Sequence[DisqualificationReason], label: str) -> None:
    if any(r.label.lower() == label.lower() for r in reasons):
        raise conflict(
            "label", "unique", f"a disqualification reason named {label!r} already exists"
        )


def _renumber(reasons: Sequence[DisqualificationReason]) -> None:
    for i, reason in enumerate(reasons):
        reason.position = i
