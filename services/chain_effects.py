"""The side effects of chain actions, each idempotent on its key `<workflow id>/<action id>/<seq>`,
and `perform`, which runs the one an action has.

Called by the stage-chain workflow's activities (one effect per activity). A repeat under the
same key returns the first result and changes nothing; no step starts once the lead left the
run's stage entry, however late the run hears of it (services/chain_effect_guard.py). Results
are JSON dicts recorded on the run's step; `{"skipped": "<why>"}` means there was nothing to
do (no owner, no recipient).

This module holds the property, deal and owner effects; the others are in their group's
module: `communication_effects` (task, email, owner notice), `webhook_effect`,
`marketing_effects` (sequences, lists), `crm_effects` (the deal, copies, the lead label).

Each effect writes in one transaction: its own, or the caller's when the caller began one
(db/transactions.py), so the chain activity commits a database effect together with its
step's outcome. An email is sent, and a webhook called, after their effect's transaction.

Errors: `Unavailable` is transient (retry the activity); any other LeadpipeError is a business
refusal (make it non-retryable).
"""

from collections.abc import Awaitable, Mapping
from datetime import UTC, date, datetime
from typing import Any, Protocol

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Deal, Pipeline, User
from db.repositories import chains as chains_repo
from db.repositories import pipelines as pipelines_repo
from db.repositories import records
from db.transactions import transaction
from domain.chains import (
    Action,
    AddToListAction,
    AssignOwnerAction,
    AssignOwnerConfig,
    BranchAction,
    ChainContext,
    CopyPropertyAction,
    CreateDealAction,
    CreateDealConfig,
    CreateTaskAction,
    DelayAction,
    EffectAction,
    EnrollInSequenceAction,
    NotifyOwnerAction,
    RemoveFromListAction,
    SendEmailAction,
    SetLeadLabelAction,
    SetPropertyAction,
    SetPropertyConfig,
    UnenrollFromSequenceAction,
    UpdateDealAction,
    WebhookAction,
    render_template,
)
from domain.errors import invalid
from domain.guided import ObjectKind
from domain.stages import PipelineObject
from services import crm_effects, guided_actions, marketing_effects
from services.chain_context import build_context
from services.chain_effect_guard import (
    Result,
    in_stage,
    left_stage,
    remember,
    remembered,
)
from services.communication_effects import create_task, notify_owner, queue_email
from services.property_writes import CHAIN_SOURCE, CREATED_LEAD, record_of, write_property
from services.webhook_effect import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    call_webhook,
    signature,
)

__all__ = [
    "CHAIN_SOURCE",
    "CREATED_LEAD",
    "EFFECTS",
    "IDEMPOTENCY_HEADER",
    "SIGNATURE_HEADER",
    "Result",
    "assign_owner",
    "call_webhook",
    "create_deal",
    "create_task",
    "notify_owner",
    "perform",
    "queue_email",
    "set_property",
    "signature",
]


async def set_property(
    session: AsyncSession,
    key: str,
    lead_id: int,
    config: SetPropertyConfig,
    *,
    stage_entry_id: int | None = None,
) -> Result:
    """Set a lead, contact or company property. A contact's lifecycle stage change is recorded
    with source `chain` and goes through the create-lead-on-lifecycle rule (SET-3).
    -> {"property", "from", "to"} plus {"created_lead_id"} when the rule made a lead (its
    workflow's start is owed in the outbox), or {"skipped"} when the lead has no such
    record."""
    async with transaction(session):
        done = await remembered(session, key)
        if done is not None:
            return done
        lead = await in_stage(session, lead_id, stage_entry_id)
        if lead is None:
            return left_stage()
        record_name = config.property.partition(".")[0]
        target = await record_of(session, lead, record_name, for_update=True)
        if target is None:
            return {"skipped": f"the lead has no {record_name}"}
        result = await write_property(session, target, config.property, config.value)
        return await remember(session, key, "set_property", lead_id, result)


async def create_deal(
    session: AsyncSession,
    key: str,
    lead_id: int,
    config: CreateDealConfig,
    *,
    context: ChainContext | None = None,
    now: datetime | None = None,
    stage_entry_id: int | None = None,
) -> Result:
    """A deal associated with the lead, its contact and company, owned by the lead owner; it
    becomes the lead's deal if the lead has none. -> {"deal_id"}. Raises InvalidInput when the
    configured pipeline or stage no longer fits."""
    async with transaction(session):
        existing = await chains_repo.deal_by_key(session, key)
        if existing is not None:
            return {"deal_id": existing.id}
        lead = await in_stage(session, lead_id, stage_entry_id)
        if lead is None:
            return left_stage()
        context = context or await build_context(session, lead_id)
        pipeline_id, stage_id = await _deal_stage(session, config)
        start = now or datetime.now(UTC)
        close: date | None = (start + config.close_in).date() if config.close_in else None
        deal = await records.add(
            session,
            Deal(
                name=render_template(config.name, context)[:200] or lead.name,
                amount=config.amount,
                close_date=close,
                pipeline_id=pipeline_id,
                stage_id=stage_id,
                owner_id=lead.owner_id,
                contact_id=lead.contact_id,
                company_id=lead.company_id,
                lead_id=lead.id,
                idempotency_key=key,
            ),
        )
        if lead.deal_id is None:
            lead.deal_id = deal.id
        await guided_actions.enqueue_evaluation(session, [(ObjectKind.DEAL, deal.id)])
        return {"deal_id": deal.id}


async def _deal_stage(session: AsyncSession, config: CreateDealConfig) -> tuple[int, int]:
    pipeline: Pipeline | None
    if config.pipeline_id is None:
        pipeline = await pipelines_repo.get_default(session, PipelineObject.DEAL)
    else:
        pipeline = await pipelines_repo.get(session, config.pipeline_id)
    if pipeline is None or pipeline.object != PipelineObject.DEAL or not pipeline.stages:
        raise invalid(
            "config.pipeline_id", "deal_pipeline", f"no deal pipeline {config.pipeline_id}"
        )
    if config.stage_id is None:
        return pipeline.id, pipeline.stages[0].id
    if all(s.id != config.stage_id for s in pipeline.stages):
        raise invalid(
            "config.stage_id",
            "stage_in_pipeline",
            f"stage {config.stage_id} is not in pipeline {pipeline.id}",
        )
    return pipeline.id, config.stage_id


async def assign_owner(
    session: AsyncSession,
    key: str,
    lead_id: int,
    config: AssignOwnerConfig,
    *,
    stage_entry_id: int | None = None,
) -> Result:
    """Make `user_id` the lead's owner (unless `only_if_unassigned` and it has one).
    -> {"owner_id", "previous_owner_id", "changed"}. The caller tells the lead workflow
    (`Orchestrator.refresh_lead`) after a change. Raises InvalidInput for an unknown user."""
    async with transaction(session):
        done = await remembered(session, key)
        if done is not None:
            return done
        lead = await in_stage(session, lead_id, stage_entry_id)
        if lead is None:
            return left_stage()
        if await records.get(session, User, config.user_id) is None:
            raise invalid("config.user_id", "exists", f"user {config.user_id} does not exist")
        previous = lead.owner_id
        change = not (config.only_if_unassigned and previous is not None)
        if change:
            lead.owner_id = config.user_id
            await guided_actions.enqueue_evaluation(session, [(ObjectKind.LEAD, lead.id)])
        result = {
            "owner_id": lead.owner_id,
            "previous_owner_id": previous,
            "changed": change and previous != config.user_id,
        }
        return await remember(session, key, "assign_owner", lead_id, result)


class Effect(Protocol):
    """The effect of a self-describing action type (domain.chains.EffectAction)."""

    def __call__(
        self,
        session: AsyncSession,
        key: str,
        lead_id: int,
        config: Any,
        *,
        now: datetime | None = None,
        stage_entry_id: int | None = None,
    ) -> Awaitable[Result]: ...


# One row per self-describing action type: the layer's one place that names its effect.
EFFECTS: Mapping[type[EffectAction], Effect] = {
    EnrollInSequenceAction: marketing_effects.enroll_in_sequence,
    UnenrollFromSequenceAction: marketing_effects.unenroll_from_sequence,
    AddToListAction: marketing_effects.add_to_list,
    RemoveFromListAction: marketing_effects.remove_from_list,
    UpdateDealAction: crm_effects.update_deal,
    CopyPropertyAction: crm_effects.copy_property,
    SetLeadLabelAction: crm_effects.set_lead_label,
}


async def perform(
    session: AsyncSession,
    key: str,
    lead_id: int,
    action: Action,
    *,
    http: httpx.AsyncClient,
    webhook_secret: str | None = None,
    context: ChainContext | None = None,
    now: datetime | None = None,
    stage_entry_id: int | None = None,
) -> Result:
    """Run the effect of one action (not `delay` or `branch`, which the workflow handles);
    webhooks go out through `http`. With `stage_entry_id`, nothing happens once the lead has
    left that stage entry (see the module's docstring)."""
    entry = stage_entry_id
    if isinstance(action, EffectAction):
        effect = EFFECTS[type(action)]
        return await effect(
            session, key, lead_id, action.config, now=now, stage_entry_id=stage_entry_id
        )
    if isinstance(action, CreateTaskAction):
        return await create_task(
            session, key, lead_id, action.config, context=context, now=now, stage_entry_id=entry
        )
    if isinstance(action, SendEmailAction):
        return await queue_email(
            session, key, lead_id, action.config, context=context, stage_entry_id=entry
        )
    if isinstance(action, SetPropertyAction):
        return await set_property(session, key, lead_id, action.config, stage_entry_id=entry)
    if isinstance(action, CreateDealAction):
        return await create_deal(
            session, key, lead_id, action.config, context=context, now=now, stage_entry_id=entry
        )
    if isinstance(action, AssignOwnerAction):
        return await assign_owner(session, key, lead_id, action.config, stage_entry_id=entry)
    if isinstance(action, NotifyOwnerAction):
        return await notify_owner(
            session, key, lead_id, action.config, context=context, now=now, stage_entry_id=entry
        )
    if isinstance(action, WebhookAction):
        return await call_webhook(
            session,
            key,
            lead_id,
            action.config,
            default_secret=webhook_secret,
            context=context,
            http=http,
            stage_entry_id=entry,
        )
    assert isinstance(action, DelayAction | BranchAction)
    raise TypeError(f"{action.type} has no side effect; the workflow runs it")
