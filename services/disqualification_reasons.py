"""Disqualification reasons: one ordered list per account (DIS-5 to DIS-9)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import DisqualificationReason, User
from db.repositories import lead_config as config_repo
from domain.errors import Conflict, NotFound, conflict, invalid
from domain.roles import ADMINS
from services import audit, automation
from services.auth import require_role


@dataclass(frozen=True)
class ReasonEdit:
    """One reason of a whole-list save: an existing reason (`id`) or, without one, a new one."""

    label: str
    id: int | None = None


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
        await _remove(session, actor, reason, datetime.now(UTC))
        _renumber([r for r in reasons if r.id != reason.id])
        await session.flush()


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


async def save_reasons(
    session: AsyncSession, actor: User, edits: Sequence[ReasonEdit]
) -> Sequence[DisqualificationReason]:
    """Save the whole ordered list of reasons at once, all or nothing (DIS-9).

    An edit with an id keeps that reason (renamed when its label differs), one without adds a
    reason, and a reason left out is removed as a single remove removes it: leads keep it and
    follow-up rules drop it (DIS-8). Labels are non-empty and unique. Audited as the single
    edits are, plus a reorder entry when the kept reasons changed order.

    Raises Forbidden, InvalidInput (`reasons.<i>.<field>`: empty or repeated label, an id
    listed twice or not of a reason that may be chosen).
    """
    require_role(actor, ADMINS, "saving disqualification reasons")
    labels = [_label(e.label, f"reasons.{i}.label") for i, e in enumerate(edits)]
    seen: set[str] = set()
    for i, label in enumerate(labels):
        if label.lower() in seen:
            raise invalid(f"reasons.{i}.label", "unique", f"reason {label!r} is listed twice")
        seen.add(label.lower())
    async with session.begin():
        reasons = await config_repo.active_reasons(session, for_update=True)
        by_id = {r.id: r for r in reasons}
        for i, edit in enumerate(edits):
            if edit.id is None:
                continue
            if edit.id not in by_id:
                raise invalid(
                    f"reasons.{i}.id",
                    "active_reason",
                    f"{edit.id} is not a disqualification reason that may be chosen; "
                    "leave the id out to add a reason",
                )
            if any(e.id == edit.id for e in edits[:i]):
                raise invalid(f"reasons.{i}.id", "unique", f"reason {edit.id} is listed twice")
        kept = [by_id[e.id] for e in edits if e.id is not None]
        before = {r.id: reason_record(r) for r in reasons}
        before_order = {"ids": [r.id for r in reasons]}
        now = datetime.now(UTC)
        for reason in reasons:
            if reason not in kept:
                await _remove(session, actor, reason, now)
        new_label = {e.id: label for e, label in zip(edits, labels, strict=True) if e.id}
        renamed = [r for r in kept if r.label != new_label[r.id]]
        # The unique index on labels is checked row by row: park the renamed reasons under
        # labels no one can choose (labels are single lines), so a swap of labels can be saved.
        for reason in renamed:
            reason.label = f"\n{reason.id}"
        await session.flush()
        ordered: list[DisqualificationReason] = []
        for edit, label in zip(edits, labels, strict=True):
            if edit.id is None:
                reason = await config_repo.add_reason(
                    session, DisqualificationReason(label=label, position=len(ordered))
                )
                await audit.record(
                    session,
                    actor,
                    audit.Entity.DISQUALIFICATION_REASON,
                    reason.id,
                    audit.Action.CREATE,
                    after=reason_record(reason),
                )
            else:
                reason = by_id[edit.id]
                reason.label = label
            ordered.append(reason)
        _renumber(ordered)
        await session.flush()
        for reason in renamed:
            await audit.record(
                session,
                actor,
                audit.Entity.DISQUALIFICATION_REASON,
                reason.id,
                audit.Action.UPDATE,
                before=before[reason.id],
                after=reason_record(reason),
            )
        if [r.id for r in kept] != [r.id for r in reasons if r in kept]:
            await audit.record(
                session,
                actor,
                audit.Entity.DISQUALIFICATION_REASON,
                None,
                audit.Action.REORDER,
                before=before_order,
                after={"ids": [r.id for r in ordered]},
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


async def _remove(
    session: AsyncSession, actor: User, reason: DisqualificationReason, now: datetime
) -> None:
    """DIS-8: no longer offered, and gone from every follow-up rule; leads keep it."""
    before = reason_record(reason)
    reason.removed_at = now
    await automation.drop_reason(session, actor, reason.id)
    await audit.record(
        session,
        actor,
        audit.Entity.DISQUALIFICATION_REASON,
        reason.id,
        audit.Action.DELETE,
        before=before,
        after=reason_record(reason),
    )


def _label(value: str, field_name: str = "label") -> str:
    label = value.strip()
    if not label:
        raise invalid(field_name, "not_empty", f"{field_name} must not be empty")
    return label


def _require_unique(reasons: Sequence[DisqualificationReason], label: str) -> None:
    if any(r.label.lower() == label.lower() for r in reasons):
        raise conflict(
            "label", "unique", f"a disqualification reason named {label!r} already exists"
        )


def _renumber(reasons: Sequence[DisqualificationReason]) -> None:
    for i, reason in enumerate(reasons):
        reason.position = i
