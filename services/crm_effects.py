"""The CRM-and-data group's effects: change the lead's deal, copy a property between the lead
and its contact or company, set the lead label; once per key (services/chain_effect_guard.py).

A lead without a deal (`update_deal`), or without the record a copy reads or writes, is
skipped; so is a copy whose source is unset (the target keeps its value). A deal stage
removed since the chain was saved fails the step (InvalidInput on `config.stage_id`).
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Deal, Lead, Pipeline, Stage
from db.repositories import records
from domain.bounds import text_problem
from domain.chains import (
    WRITABLE_LENGTHS,
    CopyPropertyConfig,
    SetLeadLabelConfig,
    UpdateDealConfig,
)
from domain.chains.crm import NO_DEAL
from domain.errors import invalid
from domain.stages import PipelineObject
from services import deals
from services.chain_effect_guard import Result, once
from services.property_writes import record_of, write_property


async def _deal_stage(session: AsyncSession, stage_id: int) -> Stage:
    stage = await records.get(session, Stage, stage_id)
    pipeline = await records.get(session, Pipeline, stage.pipeline_id) if stage else None
    if (
        stage is None
        or stage.removed_at is not None
        or pipeline is None
        or pipeline.object != PipelineObject.DEAL
    ):
        raise invalid(
            "config.stage_id", "deal_stage", f"stage {stage_id} is not a stage of a deal pipeline"
        )
    return stage


def _json(value: object) -> Any:
    return None if value is None else value if isinstance(value, int | str) else str(value)


async def update_deal(
    session: AsyncSession,
    key: str,
    lead_id: int,
    config: UpdateDealConfig,
    *,
    now: datetime | None = None,
    stage_entry_id: int | None = None,
) -> Result:
    """Change the stage (and so the pipeline), amount and close date of the lead's deal, kept
    in the deal's history like a change by hand. -> {"deal_id", "changes": {field: {"from",
    "to"}}} | {"skipped"}. Raises InvalidInput."""
    at = now or datetime.now(UTC)

    async def act(lead: Lead) -> Result:
        deal = (
            await records.get(session, Deal, lead.deal_id, for_update=True)
            if lead.deal_id
            else None
        )
        if deal is None:
            return {"skipped": NO_DEAL}
        values: dict[str, Any] = {}
        if config.stage_id is not None:
            stage = await _deal_stage(session, config.stage_id)
            values |= {"pipeline_id": stage.pipeline_id, "stage_id": stage.id}
        if config.amount is not None:
            values["amount"] = config.amount
        close = config.close_on(at)
        if close is not None:
            values["close_date"] = close
        before = {name: getattr(deal, name) for name in values}
        await deals.change_deal(session, deal, values, at=at, actor_id=None)
        changes = {
            name: {"from": _json(before[name]), "to": _json(value)}
            for name, value in values.items()
            if before[name] != value
        }
        return {"deal_id": deal.id, "changes": changes}

    return await once(session, key, "update_deal", lead_id, stage_entry_id, act)


async def copy_property(
    session: AsyncSession,
    key: str,
    lead_id: int,
    config: CopyPropertyConfig,
    *,
    now: datetime | None = None,
    stage_entry_id: int | None = None,
) -> Result:
    """Copy the source's current value into the target, through the same write as
    `set_property` (a contact lifecycle stage follows SET-3). -> {"source", "property",
    "from", "to"} (plus {"created_lead_id"}) | {"skipped"}. Raises InvalidInput when the value
    does not fit the target (a save-time check makes that rare)."""

    async def act(lead: Lead) -> Result:
        source_record, _, column = config.from_.partition(".")
        source = await record_of(session, lead, source_record)
        if source is None:
            return {"skipped": f"the lead has no {source_record}"}
        value = getattr(source, column)
        if value is None or value == "":
            return {"skipped": f"{config.from_} is not set"}
        target_record = config.to.partition(".")[0]
        target = await record_of(session, lead, target_record, for_update=True)
        if target is None:
            return {"skipped": f"the lead has no {target_record}"}
        if isinstance(value, str):
            most = WRITABLE_LENGTHS.get(config.to)
            problem = text_problem(value, single_line=True)
            if problem is None and most is not None and len(value) > most:
                problem = ("value_length", f"{config.to} holds at most {most} characters")
            if problem is not None:
                raise invalid("config.from", problem[0], f"{config.from_}: {problem[1]}")
        return {"source": config.from_} | await write_property(session, target, config.to, value)

    return await once(session, key, "copy_property", lead_id, stage_entry_id, act)


async def set_lead_label(
    session: AsyncSession,
    key: str,
    lead_id: int,
    config: SetLeadLabelConfig,
    *,
    now: datetime | None = None,
    stage_entry_id: int | None = None,
) -> Result:
    """-> {"from", "to"} (labels, null for none)."""

    async def act(lead: Lead) -> Result:
        previous = lead.label
        lead.label = None if config.label is None else config.label.value
        return {"from": previous, "to": lead.label}

    return await once(session, key, "set_lead_label", lead_id, stage_entry_id, act)
