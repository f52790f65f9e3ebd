"""Chain versions, comments, runs and steps, and the rows that key chain side effects."""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, String, func, literal, null, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    ChainComment,
    ChainEffect,
    ChainRun,
    ChainStep,
    ChainVersion,
    Deal,
    EmailOutboxMessage,
    WebhookCall,
)


async def latest_version(session: AsyncSession, stage_id: int) -> ChainVersion | None:
    return await session.scalar(
        select(ChainVersion)
        .where(ChainVersion.stage_id == stage_id)
        .order_by(ChainVersion.version.desc())
        .limit(1)
    )


async def get_version(session: AsyncSession, stage_id: int, version: int) -> ChainVersion | None:
    return await session.scalar(
        select(ChainVersion).where(
            ChainVersion.stage_id == stage_id, ChainVersion.version == version
        )
    )


async def add_version(session: AsyncSession, row: ChainVersion) -> ChainVersion:
    session.add(row)
    await session.flush()
    return row


async def comments(session: AsyncSession, stage_id: int) -> Sequence[ChainComment]:
    """A stage's comments, oldest first."""
    return (
        await session.scalars(
            select(ChainComment)
            .where(ChainComment.stage_id == stage_id)
            .order_by(ChainComment.created_at, ChainComment.id)
        )
    ).all()


async def add_comment(session: AsyncSession, comment: ChainComment) -> ChainComment:
    session.add(comment)
    await session.flush()
    return comment


async def get_run(
    session: AsyncSession, workflow_id: str, *, for_update: bool = False
) -> ChainRun | None:
    query = select(ChainRun).where(ChainRun.workflow_id == workflow_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def add_run(session: AsyncSession, run: ChainRun) -> ChainRun:
    session.add(run)
    await session.flush()
    return run


async def put_run(session: AsyncSession, run: ChainRun, *, reserved: str) -> None:
    """Insert the run, or give a run reserved under its workflow id (status `reserved`) the
    run's status; any other existing run stays as it is. One statement."""
    insert = pg_insert(ChainRun).values(
        workflow_id=run.workflow_id,
        lead_id=run.lead_id,
        pipeline_id=run.pipeline_id,
        stage_id=run.stage_id,
        version=run.version,
        status=run.status,
        started_at=run.started_at,
    )
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[ChainRun.workflow_id],
            set_={"status": insert.excluded.status},
            where=ChainRun.status == reserved,
        )
    )


async def end_run(
    session: AsyncSession,
    workflow_id: str,
    status: str,
    ended_at: datetime | None,
    *,
    final: Collection[str],
) -> bool:
    """Move the run to `status` (and `ended_at`, unless None) unless its status is one of
    `final`. One statement. -> False when nothing was written (no such run, or a final one)."""
    values: dict[str, Any] = {"status": status}
    if ended_at is not None:
        values["ended_at"] = ended_at
    statement = (
        update(ChainRun)
        .where(ChainRun.workflow_id == workflow_id, ChainRun.status.not_in(list(final)))
        .values(**values)
        .returning(ChainRun.id)
    )
    return (await session.execute(statement)).first() is not None


async def runs_for_lead(
    session: AsyncSession, lead_id: int, *, after_id: int | None, limit: int
) -> Sequence[ChainRun]:
    query = select(ChainRun).where(ChainRun.lead_id == lead_id).order_by(ChainRun.id).limit(limit)
    if after_id is not None:
        query = query.where(ChainRun.id > after_id)
    return (await session.scalars(query)).all()


async def lead_runs_of_stage(
    session: AsyncSession, lead_id: int, stage_id: int
) -> Sequence[ChainRun]:
    """A lead's runs of one stage's chain, every version, oldest first."""
    return (
        await session.scalars(
            select(ChainRun)
            .where(ChainRun.lead_id == lead_id, ChainRun.stage_id == stage_id)
            .order_by(ChainRun.id)
        )
    ).all()


async def steps_for_runs(session: AsyncSession, run_ids: Sequence[int]) -> Sequence[ChainStep]:
    if not run_ids:
        return []
    return (
        await session.scalars(
            select(ChainStep)
            .where(ChainStep.run_id.in_(run_ids))
            .order_by(ChainStep.run_id, ChainStep.started_at, ChainStep.id)
        )
    ).all()


async def get_step(
    session: AsyncSession, run_id: int, action_id: str, seq: int, *, for_update: bool = False
) -> ChainStep | None:
    query = select(ChainStep).where(
        ChainStep.run_id == run_id, ChainStep.action_id == action_id, ChainStep.seq == seq
    )
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def add_step(session: AsyncSession, step: ChainStep) -> ChainStep:
    session.add(step)
    await session.flush()
    return step


async def put_step(
    session: AsyncSession,
    run_workflow_id: str,
    action_id: str,
    seq: int,
    type: str,
    status: str,
    *,
    at: datetime,
    ended_at: datetime | None,
    result: dict[str, Any] | None,
    error: str | None,
    final: Collection[str],
) -> bool:
    """Create the step of run `run_workflow_id`, or move it to `status` unless its status is
    one of `final`; a None `result`, `error` or `ended_at` keeps the one it has. One
    statement. -> False when nothing was written (no such run, or the step is final)."""
    values = select(
        ChainRun.id,
        literal(action_id, String),
        literal(seq),
        literal(type, String),
        literal(status, String),
        literal(at, DateTime(timezone=True)),
        # SQL NULL, not JSON null: "keep the one it has" below.
        null() if ended_at is None else literal(ended_at, DateTime(timezone=True)),
        null() if result is None else literal(result, JSONB),
        null() if error is None else literal(error, String),
    ).where(ChainRun.workflow_id == run_workflow_id)
    insert = pg_insert(ChainStep).from_select(
        [
            "run_id",
            "action_id",
            "seq",
            "type",
            "status",
            "started_at",
            "ended_at",
            "result",
            "error",
        ],
        values,
    )
    new = insert.excluded
    statement = insert.on_conflict_do_update(
        constraint="uq_chain_steps_run_action_seq",
        set_={
            "status": new.status,
            "ended_at": func.coalesce(new.ended_at, ChainStep.ended_at),
            "result": func.coalesce(new.result, ChainStep.result),
            "error": func.coalesce(new.error, ChainStep.error),
        },
        where=ChainStep.status.not_in(list(final)),
    ).returning(ChainStep.id)
    return (await session.execute(statement)).first() is not None


async def email_by_key(session: AsyncSession, key: str) -> EmailOutboxMessage | None:
    return await session.scalar(
        select(EmailOutboxMessage).where(EmailOutboxMessage.idempotency_key == key)
    )


async def add_email(session: AsyncSession, email: EmailOutboxMessage) -> EmailOutboxMessage:
    session.add(email)
    await session.flush()
    return email


# Not sent yet: `sending` is an email whose hand-off began and was never recorded as done.
UNSENT_EMAIL = ("queued", "sending")


async def unsent_email_ids(
    session: AsyncSession, *, limit: int, ids: Sequence[int] | None = None
) -> Sequence[int]:
    """Unsent emails, oldest first; rows another sender holds are skipped."""
    query = (
        select(EmailOutboxMessage.id)
        .where(EmailOutboxMessage.status.in_(UNSENT_EMAIL))
        .order_by(EmailOutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if ids is not None:
        query = query.where(EmailOutboxMessage.id.in_(ids))
    return (await session.scalars(query)).all()


async def claim_email(session: AsyncSession, email_id: int) -> EmailOutboxMessage | None:
    """This email, locked, if it is unsent and no other sender holds it."""
    return await session.scalar(
        select(EmailOutboxMessage)
        .where(EmailOutboxMessage.id == email_id, EmailOutboxMessage.status.in_(UNSENT_EMAIL))
        .with_for_update(skip_locked=True)
    )


async def lock_claimed_email(
    session: AsyncSession, email_id: int, attempt: int
) -> EmailOutboxMessage | None:
    """This email, locked, if it is still `sending` under claim `attempt` and free."""
    return await session.scalar(
        select(EmailOutboxMessage)
        .where(
            EmailOutboxMessage.id == email_id,
            EmailOutboxMessage.status == "sending",
            EmailOutboxMessage.attempts == attempt,
        )
        .with_for_update(skip_locked=True)
    )


async def get_email(session: AsyncSession, email_id: int) -> EmailOutboxMessage | None:
    return await session.get(EmailOutboxMessage, email_id)


async def webhook_call(
    session: AsyncSession, key: str, *, for_update: bool = False
) -> WebhookCall | None:
    query = select(WebhookCall).where(WebhookCall.idempotency_key == key)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def add_webhook_call(session: AsyncSession, call: WebhookCall) -> WebhookCall:
    session.add(call)
    await session.flush()
    return call


async def effect(session: AsyncSession, key: str) -> ChainEffect | None:
    return await session.scalar(select(ChainEffect).where(ChainEffect.idempotency_key == key))


async def add_effect(session: AsyncSession, row: ChainEffect) -> ChainEffect:
    session.add(row)
    await session.flush()
    return row


async def deal_by_key(session: AsyncSession, key: str) -> Deal | None:
    return await session.scalar(select(Deal).where(Deal.idempotency_key == key))
