"""The marketing group's effects: the lead's contact into or out of a sales sequence or a
static contact list, once per key (services/chain_effect_guard.py).

Membership is a set: enrolling an enrolled contact or adding a member again changes nothing
and answers `enrolled`/`added` false; taking out one that is not in answers `unenrolled`/
`removed` false. A lead without a contact is skipped. A sequence or list deleted since the
chain was saved fails the step (InvalidInput naming the config field).
"""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Lead, User
from db.repositories import contact_lists as lists_repo
from db.repositories import records
from db.repositories import sequences as sequences_repo
from domain.chains import ContactListConfig, EnrollInSequenceConfig, SequenceConfig
from domain.chains.marketing import NO_CONTACT
from domain.errors import invalid
from services.chain_effect_guard import Result, once


async def _require_sequence(session: AsyncSession, sequence_id: int) -> None:
    if await sequences_repo.get(session, sequence_id) is None:
        raise invalid("config.sequence_id", "exists", f"sequence {sequence_id} does not exist")


async def _require_list(session: AsyncSession, list_id: int) -> None:
    if await lists_repo.get(session, list_id) is None:
        raise invalid("config.list_id", "exists", f"list {list_id} does not exist")


async def enroll_in_sequence(
    session: AsyncSession,
    key: str,
    lead_id: int,
    config: EnrollInSequenceConfig,
    *,
    now: datetime | None = None,
    stage_entry_id: int | None = None,
) -> Result:
    """Enroll the lead's contact, sent by `user_id` (the lead owner if absent).
    -> {"sequence_id", "contact_id", "enrolled"} | {"skipped"}. Raises InvalidInput."""

    async def act(lead: Lead) -> Result:
        if lead.contact_id is None:
            return {"skipped": NO_CONTACT}
        await _require_sequence(session, config.sequence_id)
        if config.user_id is not None and await records.get(session, User, config.user_id) is None:
            raise invalid("config.user_id", "exists", f"user {config.user_id} does not exist")
        sender = config.user_id if config.user_id is not None else lead.owner_id
        enrollment = await sequences_repo.enroll(
            session, config.sequence_id, lead.contact_id, sender
        )
        return {
            "sequence_id": config.sequence_id,
            "contact_id": lead.contact_id,
            "enrolled": enrollment is not None,
        }

    return await once(session, key, "enroll_in_sequence", lead_id, stage_entry_id, act)


async def unenroll_from_sequence(
    session: AsyncSession,
    key: str,
    lead_id: int,
    config: SequenceConfig,
    *,
    now: datetime | None = None,
    stage_entry_id: int | None = None,
) -> Result:
    """-> {"sequence_id", "contact_id", "unenrolled"} | {"skipped"}. Raises InvalidInput."""

    async def act(lead: Lead) -> Result:
        if lead.contact_id is None:
            return {"skipped": NO_CONTACT}
        await _require_sequence(session, config.sequence_id)
        removed = await sequences_repo.unenroll(session, config.sequence_id, lead.contact_id)
        return {
            "sequence_id": config.sequence_id,
            "contact_id": lead.contact_id,
            "unenrolled": removed,
        }

    return await once(session, key, "unenroll_from_sequence", lead_id, stage_entry_id, act)


async def add_to_list(
    session: AsyncSession,
    key: str,
    lead_id: int,
    config: ContactListConfig,
    *,
    now: datetime | None = None,
    stage_entry_id: int | None = None,
) -> Result:
    """-> {"list_id", "contact_id", "added"} | {"skipped"}. Raises InvalidInput."""

    async def act(lead: Lead) -> Result:
        if lead.contact_id is None:
            return {"skipped": NO_CONTACT}
        await _require_list(session, config.list_id)
        added = await lists_repo.add_member(session, config.list_id, lead.contact_id)
        return {"list_id": config.list_id, "contact_id": lead.contact_id, "added": added}

    return await once(session, key, "add_to_list", lead_id, stage_entry_id, act)


async def remove_from_list(
    session: AsyncSession,
    key: str,
    lead_id: int,
    config: ContactListConfig,
    *,
    now: datetime | None = None,
    stage_entry_id: int | None = None,
) -> Result:
    """-> {"list_id", "contact_id", "removed"} | {"skipped"}. Raises InvalidInput."""

    async def act(lead: Lead) -> Result:
        if lead.contact_id is None:
            return {"skipped": NO_CONTACT}
        await _require_list(session, config.list_id)
        removed = await lists_repo.remove_member(session, config.list_id, lead.contact_id)
        return {"list_id": config.list_id, "contact_id": lead.contact_id, "removed": removed}

    return await once(session, key, "remove_from_list", lead_id, stage_entry_id, act)
