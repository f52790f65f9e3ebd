"""The communication group's effects: a task, an email, a note to the lead owner. Tasks and
emails are rows of their own under the step's key, so a retry finds them. A task is looked up
by its key with the lead row locked (as services/chain_effect_guard.py `once` does): two
attempts at once queue on the lock, and the second finds the first's task."""

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import EmailOutboxMessage
from db.repositories import chains as chains_repo
from db.repositories import tasks as tasks_repo
from db.transactions import transaction
from domain.chains import (
    ChainContext,
    CreateTaskConfig,
    NotifyOwnerConfig,
    SendEmailConfig,
    render_template,
)
from services import tasks
from services.chain_context import build_context, context_of, records_of
from services.chain_effect_guard import Result, in_stage, is_in_entry, lead_row, left_stage


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
    async with transaction(session):
        lead = await lead_row(session, lead_id, for_update=True)
        existing = await tasks_repo.get_by_idempotency_key(session, key)
        if existing is not None:
            return {"task_id": existing.id}
        if not await is_in_entry(session, lead, stage_entry_id):
            return left_stage()
        # Held while the task is inserted: its owner check finds the owner in the session.
        records = await records_of(session, lead_id)
        context = context or context_of(*records)
        start = now or datetime.now(UTC)
        due = config.due_at or (start + config.due_in if config.due_in else None)
        task = await tasks.add_task(
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
        if await in_stage(session, lead_id, stage_entry_id) is None:
            return left_stage()
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
            lead = await lead_row(session, lead_id)
            context = context or await build_context(session, lead_id)
        if lead.owner_id is None:
            return {"skipped": "the lead has no owner"}
        message = render_template(config.message, context)
        async with session.begin():
            existing = await chains_repo.email_by_key(session, key)
            if existing is not None:
                return {"email_id": existing.id, "to": existing.to_address}
            if await in_stage(session, lead_id, stage_entry_id) is None:
                return left_stage()
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
    async with transaction(session):
        lead = await lead_row(session, lead_id, for_update=True)
        existing_task = await tasks_repo.get_by_idempotency_key(session, key)
        if existing_task is not None:
            return {"task_id": existing_task.id}
        if not await is_in_entry(session, lead, stage_entry_id):
            return left_stage()
        if lead.owner_id is None:
            return {"skipped": "the lead has no owner"}
        records = await records_of(session, lead_id)  # held: see create_task
        context = context or context_of(*records)
        task = await tasks.add_task(
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
