"""The side effects of chain actions, each idempotent on its key `<workflow id>/<action id>/<seq>`.

Called by the stage-chain workflow's activities (one effect per activity). A repeat under the
same key returns the first result and changes nothing. Results are JSON dicts recorded on the
run's step; `{"skipped": "<why>"}` means there was nothing to do (no owner, no recipient).

Given the run's `stage_entry_id`, an effect first locks the lead row and checks that the lead
is still in that stage entry; if it left, nothing happens and the result is
`{"skipped": ..., "left_stage": true}`. A move locks the same row, so either the move waits
for the effect's transaction or the effect sees the move: no step starts once the lead left,
however late the run hears of it.

Errors: `Unavailable` is transient (retry the activity); any other LeadpipeError is a business
refusal (make it non-retryable).
"""

import asyncio
import hashlib
import hmac
import json
from datetime import UTC, date, datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    ChainEffect,
    Company,
    Contact,
    Deal,
    EmailOutboxMessage,
    Lead,
    Pipeline,
    User,
    WebhookCall,
)
from db.repositories import chains as chains_repo
from db.repositories import leads as leads_repo
from db.repositories import pipelines as pipelines_repo
from db.repositories import records
from db.repositories import tasks as tasks_repo
from domain.chain_execution import LEFT_STAGE
from domain.chains import (
    Action,
    AssignOwnerAction,
    AssignOwnerConfig,
    BranchAction,
    ChainContext,
    CreateDealAction,
    CreateDealConfig,
    CreateTaskAction,
    CreateTaskConfig,
    DelayAction,
    NotifyOwnerAction,
    NotifyOwnerConfig,
    SendEmailAction,
    SendEmailConfig,
    SetPropertyAction,
    SetPropertyConfig,
    WebhookAction,
    WebhookConfig,
    render_template,
)
from domain.errors import Conflict, NotFound, Unavailable, invalid
from domain.guided import ObjectKind
from domain.stages import PipelineObject
from services import contacts, guided_actions, tasks
from services.chain_context import build_context
from services.webhook_transport import RefusedTarget

Result = dict[str, Any]

# Lifecycle changes made by a chain are recorded with this source (SET-4 keeps the source).
CHAIN_SOURCE = "chain"
# In a set_property result: the lead the lifecycle rule created (SET-3).
CREATED_LEAD = "created_lead_id"
SIGNATURE_HEADER = "X-Leadpipe-Signature"
IDEMPOTENCY_HEADER = "X-Leadpipe-Idempotency-Key"
RESPONSE_EXCERPT = 500


async def _lead(session: AsyncSession, lead_id: int, *, for_update: bool = False) -> Lead:
    lead = await records.get(session, Lead, lead_id, for_update=for_update)
    if lead is None:
        raise NotFound(f"lead {lead_id} does not exist")
    return lead


async def _in_stage(session: AsyncSession, lead_id: int, stage_entry_id: int | None) -> Lead | None:
    """The lead, locked, if it is still in the run's stage entry (or none is given); None if
    it left. The lock makes a concurrent move wait for the effect's transaction."""
    lead = await _lead(session, lead_id, for_update=True)
    if stage_entry_id is None:
        return lead
    current = await leads_repo.stage_entry_id(session, lead.id, lead.stage_id)
    return lead if current == stage_entry_id else None


def _left_stage() -> Result:
    return {"skipped": "the lead had left the stage", LEFT_STAGE: True}


async def create_task(
    session: AsyncSession,
    key: str,
    lead_id: int,
    config: CreateTaskConfig,
    *,
    context: ChainContext | None = None,
    now: datetime | None = None,
    stage_entry_id: int | None = None,
) -> Result:
    """A task for the assignee (the lead owner unless set) linked to the lead, its contact and
    company; it shows in the assignee's `GET /v1/tasks`. -> {"task_id"}"""
    async with session.begin():
        existing = await tasks_repo.get_by_idempotency_key(session, key)
        if existing is not None:
            return {"task_id": existing.id}
        lead = await _in_stage(session, lead_id, stage_entry_id)
        if lead is None:
            return _left_stage()
        context = context or await build_context(session, lead_id)
        start = now or datetime.now(UTC)
        due = config.due_at or (start + config.due_in if config.due_in else None)
        task = await tasks.insert_task(
            session,
            {
                "title": render_template(config.title, context)[:300],
                "type": config.type,
                "priority": config.priority,
                "due_at": due,
                "notes": render_template(config.notes, context) if config.notes else None,
                "owner_id": config.assignee_id if config.assignee_id is not None else lead.owner_id,
                "lead_id": lead.id,
            },
            idempotency_key=key,
        )
        return {"task_id": task.id}


async def queue_email(
    session: AsyncSession,
    key: str,
    lead_id: int,
    config: SendEmailConfig,
    *,
    context: ChainContext | None = None,
    stage_entry_id: int | None = None,
) -> Result:
    """Queue the rendered email in the outbox for EmailSender. -> {"email_id", "to"}, or
    {"skipped"} when the recipient has no email address."""
    async with session.begin():
        existing = await chains_repo.email_by_key(session, key)
        if existing is not None:
            return {"email_id": existing.id, "to": existing.to_address}
        if await _in_stage(session, lead_id, stage_entry_id) is None:
            return _left_stage()
        context = context or await build_context(session, lead_id)
        record = context.contact if config.to == "contact" else context.owner
        to = record.get("email")
        if not isinstance(to, str) or not to:
            return {"skipped": f"the {config.to} has no email address"}
        email = await chains_repo.add_email(
            session,
            EmailOutboxMessage(
                idempotency_key=key,
                to_address=to,
                subject=render_template(config.subject, context)[:500],
                body=render_template(config.body, context),
                lead_id=lead_id,
            ),
        )
        return {"email_id": email.id, "to": to}


async def _remembered(session: AsyncSession, key: str) -> Result | None:
    row = await chains_repo.effect(session, key)
    return None if row is None else dict(row.result)


async def _remember(
    session: AsyncSession, key: str, kind: str, lead_id: int, result: Result
) -> Result:
    await chains_repo.add_effect(
        session, ChainEffect(idempotency_key=key, kind=kind, lead_id=lead_id, result=result)
    )
    return result


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
    async with session.begin():
        done = await _remembered(session, key)
        if done is not None:
            return done
        lead = await _in_stage(session, lead_id, stage_entry_id)
        if lead is None:
            return _left_stage()
        record_name, _, column = config.property.partition(".")
        target: Lead | Contact | Company | None
        if record_name == "lead":
            target = lead
        elif record_name == "contact":
            target = (
                await records.get(session, Contact, lead.contact_id, for_update=True)
                if lead.contact_id
                else None
            )
        else:
            company_id = lead.company_id
            if company_id is None and lead.contact_id is not None:
                contact = await records.get(session, Contact, lead.contact_id)
                company_id = contact.company_id if contact else None
            target = (
                await records.get(session, Company, company_id, for_update=True)
                if company_id
                else None
            )
        if target is None:
            return {"skipped": f"the lead has no {record_name}"}
        previous = getattr(target, column)
        result = {"property": config.property, "from": previous, "to": config.value}
        if isinstance(target, Contact) and column == "lifecycle_stage":
            value = config.value if isinstance(config.value, str) else None
            # The same rule as a change through the API (SET-3): it may make a lead.
            started = await contacts.change_lifecycle_stage(
                session, target, value, CHAIN_SOURCE, actor_id=None
            )
            if started is not None:
                result[CREATED_LEAD] = started.payload["lead_id"]
        else:
            setattr(target, column, config.value)
        return await _remember(session, key, "set_property", lead_id, result)


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
    async with session.begin():
        existing = await chains_repo.deal_by_key(session, key)
        if existing is not None:
            return {"deal_id": existing.id}
        lead = await _in_stage(session, lead_id, stage_entry_id)
        if lead is None:
            return _left_stage()
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
    async with session.begin():
        done = await _remembered(session, key)
        if done is not None:
            return done
        lead = await _in_stage(session, lead_id, stage_entry_id)
        if lead is None:
            return _left_stage()
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
        return await _remember(session, key, "assign_owner", lead_id, result)


async def notify_owner(
    session: AsyncSession,
    key: str,
    lead_id: int,
    config: NotifyOwnerConfig,
    *,
    context: ChainContext | None = None,
    now: datetime | None = None,
    stage_entry_id: int | None = None,
) -> Result:
    """Tell the lead owner: a `todo` task due now (channel `task`) or an email (`email`).
    -> {"task_id"} | {"email_id", "to"} | {"skipped"} when the lead has no owner."""
    if config.channel == "email":
        async with session.begin():
            lead = await _lead(session, lead_id)
            context = context or await build_context(session, lead_id)
        if lead.owner_id is None:
            return {"skipped": "the lead has no owner"}
        message = render_template(config.message, context)
        async with session.begin():
            existing = await chains_repo.email_by_key(session, key)
            if existing is not None:
                return {"email_id": existing.id, "to": existing.to_address}
            if await _in_stage(session, lead_id, stage_entry_id) is None:
                return _left_stage()
            to = context.owner.get("email")
            if not isinstance(to, str) or not to:
                return {"skipped": "the owner has no email address"}
            row = await chains_repo.add_email(
                session,
                EmailOutboxMessage(
                    idempotency_key=key,
                    to_address=to,
                    subject=message[:500],
                    body=message,
                    lead_id=lead_id,
                ),
            )
            return {"email_id": row.id, "to": to}
    async with session.begin():
        existing_task = await tasks_repo.get_by_idempotency_key(session, key)
        if existing_task is not None:
            return {"task_id": existing_task.id}
        in_stage = await _in_stage(session, lead_id, stage_entry_id)
        if in_stage is None:
            return _left_stage()
        lead = in_stage
        if lead.owner_id is None:
            return {"skipped": "the lead has no owner"}
        context = context or await build_context(session, lead_id)
        task = await tasks.insert_task(
            session,
            {
                "title": render_template(config.message, context)[:300],
                "type": "todo",
                "due_at": now or datetime.now(UTC),
                "owner_id": lead.owner_id,
                "lead_id": lead.id,
            },
            idempotency_key=key,
        )
        return {"task_id": task.id}


def signature(secret: str, body: bytes) -> str:
    """The `X-Leadpipe-Signature` value: `sha256=` + hex HMAC-SHA256 of the exact body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _transient(status_code: int) -> bool:
    return status_code >= 500 or status_code in (408, 429)


async def call_webhook(
    session: AsyncSession,
    key: str,
    lead_id: int,
    config: WebhookConfig,
    *,
    default_secret: str | None,
    http: httpx.AsyncClient,
    context: ChainContext | None = None,
    backoff_seconds: float = 0.5,
    stage_entry_id: int | None = None,
) -> Result:
    """POST the lead snapshot as JSON, signed, trying up to 1 + `retries` times on network
    errors, 5xx, 408 and 429, through `http` (a `webhook_client`, which refuses non-public
    targets). Once a call under `key` succeeded, later calls return its result without
    POSTing. -> {"status_code", "attempts"}

    Raises Conflict (no secret; the receiver refused with another 4xx), InvalidInput
    (`public_address`: the host is or resolves to an address webhooks may not reach),
    Unavailable (still failing after the retries: retry the activity later).
    """
    async with session.begin():
        call = await chains_repo.webhook_call(session, key)
        if call is not None and call.status == "succeeded":
            return {"status_code": call.status_code, "attempts": call.attempts}
        # Checked before the call goes out; the lock ends with this transaction, so a move
        # made while the receiver answers does not wait for it.
        if await _in_stage(session, lead_id, stage_entry_id) is None:
            return _left_stage()
        context = context or await build_context(session, lead_id)
    secret = config.secret or default_secret
    if not secret:
        raise Conflict("set a secret on the webhook action or LEADPIPE_WEBHOOK_SECRET")
    body = json.dumps(
        {
            "idempotency_key": key,
            "lead_id": lead_id,
            "lead": context.lead,
            "contact": context.contact,
            "company": context.company,
            "owner": context.owner,
            "data": config.payload or {},
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(secret, body),
        IDEMPOTENCY_HEADER: key,
        "User-Agent": "leadpipe-webhook",
    }
    status_code: int | None = None
    excerpt: str | None = None
    error: str | None = None
    attempts = 0
    refused: RefusedTarget | None = None
    for attempt in range(config.retries + 1):
        attempts += 1
        try:
            response = await http.post(
                str(config.url), content=body, headers=headers, timeout=config.timeout_seconds
            )
            status_code, excerpt, error = response.status_code, response.text, None
            if not _transient(status_code):
                break
            error = f"HTTP {status_code}"
        except RefusedTarget as exc:
            refused, status_code, excerpt, error = exc, None, None, str(exc)
            break
        except httpx.HTTPError as exc:
            status_code, excerpt, error = None, None, f"{type(exc).__name__}: {exc}"
        if attempt < config.retries:
            await asyncio.sleep(backoff_seconds * 2**attempt)
    succeeded = status_code is not None and 200 <= status_code < 300
    async with session.begin():
        call = await chains_repo.webhook_call(session, key, for_update=True)
        if call is None:
            call = await chains_repo.add_webhook_call(
                session, WebhookCall(idempotency_key=key, url=str(config.url), status="failed")
            )
        call.status = "succeeded" if succeeded else "failed"
        call.status_code = status_code
        call.response_excerpt = excerpt[:RESPONSE_EXCERPT] if excerpt is not None else None
        call.attempts += attempts
        call.error = None if succeeded else (error or f"HTTP {status_code}")
        total = call.attempts
    if succeeded:
        return {"status_code": status_code, "attempts": total}
    if refused is not None:
        raise invalid("config.url", "public_address", str(refused))
    if status_code is not None and not _transient(status_code):
        raise Conflict(f"the webhook answered HTTP {status_code}")
    raise Unavailable(f"the webhook failed after {attempts} attempts: {error}")


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
