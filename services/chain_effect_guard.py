"""What every chain effect does around its change: act once per key, and only while the lead
is still in the run's stage entry.

An effect's key is `<workflow id>/<action id>/<seq>`. An effect that leaves no row of its own
records its first result in `chain_effects` under the key, in the transaction of the change: a
retry (a worker killed after the commit, a lost activity completion) finds it and answers it.

Given the run's `stage_entry_id`, an effect locks the lead row and checks that the lead is
still in that stage entry; if it left, nothing happens and the result is
`{"skipped": ..., "left_stage": true}`. A move locks the same row, so either the move waits
for the effect's transaction or the effect sees the move.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ChainEffect, Lead
from db.repositories import chains as chains_repo
from db.repositories import leads as leads_repo
from db.repositories import records
from db.transactions import transaction
from domain.chain_execution import LEFT_STAGE
from domain.errors import NotFound

Result = dict[str, Any]


async def lead_row(session: AsyncSession, lead_id: int, *, for_update: bool = False) -> Lead:
    """Raises NotFound."""
    lead = await records.get(session, Lead, lead_id, for_update=for_update)
    if lead is None:
        raise NotFound(f"lead {lead_id} does not exist")
    return lead


async def is_in_entry(session: AsyncSession, lead: Lead, stage_entry_id: int | None) -> bool:
    """Whether the lead is still in stage entry `stage_entry_id` (always, when None)."""
    if stage_entry_id is None:
        return True
    return await leads_repo.stage_entry_id(session, lead.id, lead.stage_id) == stage_entry_id


async def in_stage(session: AsyncSession, lead_id: int, stage_entry_id: int | None) -> Lead | None:
    """The lead, locked, if it is still in the run's stage entry (or none is given); None if
    it left. The lock makes a concurrent move wait for the effect's transaction."""
    lead = await lead_row(session, lead_id, for_update=True)
    return lead if await is_in_entry(session, lead, stage_entry_id) else None


def left_stage() -> Result:
    return {"skipped": "the lead had left the stage", LEFT_STAGE: True}


async def remembered(session: AsyncSession, key: str) -> Result | None:
    row = await chains_repo.effect(session, key)
    return None if row is None else dict(row.result)


async def remember(
    session: AsyncSession, key: str, kind: str, lead_id: int, result: Result
) -> Result:
    await chains_repo.add_effect(
        session, ChainEffect(idempotency_key=key, kind=kind, lead_id=lead_id, result=result)
    )
    return result


async def once(
    session: AsyncSession,
    key: str,
    kind: str,
    lead_id: int,
    stage_entry_id: int | None,
    act: Callable[[Lead], Awaitable[Result]],
) -> Result:
    """`act(lead)` with the lead row locked, its result recorded under `key`, in one
    transaction (the caller's, if it began one); a later call under `key` answers that
    result without acting. Skips (and records nothing) once the lead left the stage entry.

    Two attempts at once queue on the lead row; the second then finds the first's result.
    """
    async with transaction(session):
        lead = await lead_row(session, lead_id, for_update=True)
        done = await remembered(session, key)
        if done is not None:
            return done
        if not await is_in_entry(session, lead, stage_entry_id):
            return left_stage()
        return await remember(session, key, kind, lead_id, await act(lead))
