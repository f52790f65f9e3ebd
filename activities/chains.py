"""Activities of stage chains: look-ups, run records and each action's side effect."""

import os
import signal
from collections.abc import Coroutine
from typing import Any, NoReturn

import httpx
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeats import heartbeating
from config import Settings
from db.engine import SessionFactory, use_autocommit
from db.transactions import one_connection
from domain.chain_execution import (
    STEP_SEQ,
    ActionEffect,
    ChainContextRequest,
    ChainInForce,
    ChainLookup,
    ChainRunEnd,
    ChainRunStart,
    ChainStepRecord,
    commits_with_its_step,
)
from domain.chains import (
    Action,
    AssignOwnerAction,
    ChainContext,
    EffectAction,
    NotifyOwnerAction,
    SendEmailAction,
    WebhookAction,
    redact_secrets,
)
from domain.errors import Conflict, LeadpipeError, Unavailable
from domain.leads import workflow_id_for
from services import chain_effects, chain_runs, chains, outbox
from services.chain_context import build_context
from services.email import EmailSender
from services.orchestrator import Orchestrator, error_payload

# What each effect does, for the message of a step that failed on an unexpected error (types
# written as an EffectAction say it themselves).
DOING = {
    "create_task": "creating the task",
    "send_email": "sending the email",
    "set_property": "setting the property",
    "create_deal": "creating the deal",
    "assign_owner": "assigning the owner",
    "notify_owner": "notifying the owner",
    "webhook": "calling the webhook",
}


def is_lasting(err: SQLAlchemyError) -> bool:
    """Whether a database error would come back on a retry: bad data (SQLSTATE class 22), a
    broken constraint (23, except a unique violation, which a concurrent attempt under the
    same key causes and the next attempt resolves) or a statement the database refuses (42).
    Connection loss, deadlocks, serialization failures and the rest are worth retrying."""
    if not isinstance(err, DBAPIError):
        return False
    sqlstate = getattr(err.orig, "sqlstate", None)
    if not isinstance(sqlstate, str):
        return False
    return sqlstate[:2] in ("22", "42") or (sqlstate[:2] == "23" and sqlstate != "23505")


def refuse(err: LeadpipeError) -> NoReturn:
    # Unavailable (a webhook or SMTP server down) is worth retrying; the rest is a refusal.
    raise ApplicationError(
        err.detail,
        error_payload(err),
        type=err.type,
        non_retryable=not isinstance(err, Unavailable),
    ) from err


class ChainActivities:
    def __init__(
        self,
        session_factory: SessionFactory,
        orchestrator: Orchestrator,
        settings: Settings,
        http: httpx.AsyncClient,
    ) -> None:
        self._session_factory = session_factory
        self._orchestrator = orchestrator
        self._settings = settings
        self._http = http
        self._email = EmailSender(session_factory, settings)

    @activity.defn(name="chain_in_force")
    async def chain_in_force(self, input: ChainLookup) -> ChainInForce:
        async with self._session_factory() as session:
            chain = await chains.chain_in_force(session, input.stage_id)
        # This result becomes the chain workflow's input, which the Temporal UI and CLI show
        # to anyone with access: webhook secrets and URL credentials stay in the database.
        return ChainInForce(version=chain.version, actions=redact_secrets(chain.actions))

    @activity.defn(name="load_chain_context")
    async def load_chain_context(self, input: ChainContextRequest) -> ChainContext:
        async with self._session_factory() as session:
            try:
                return await build_context(session, input.lead_id)
            except LeadpipeError as err:
                refuse(err)

    # The run records below are one statement each (local activities, inside the workflow's
    # task): autocommit spares them BEGIN and COMMIT.

    @activity.defn(name="start_chain_run")
    async def start_chain_run(self, input: ChainRunStart) -> None:
        async with self._session_factory() as session:
            await use_autocommit(session)
            await chain_runs.start_run(
                session,
                input.workflow_id,
                input.lead_id,
                input.pipeline_id,
                input.stage_id,
                input.version,
            )

    @activity.defn(name="record_chain_step")
    async def record_chain_step(self, input: ChainStepRecord) -> None:
        async with self._session_factory() as session:
            await use_autocommit(session)
            await chain_runs.record_step(
                session,
                input.workflow_id,
                input.action_id,
                STEP_SEQ,
                input.type,
                input.status,
                result=input.result,
                error=input.error,
            )

    @activity.defn(name="finish_chain_run")
    async def finish_chain_run(self, input: ChainRunEnd) -> None:
        async with self._session_factory() as session:
            await use_autocommit(session)
            await chain_runs.finish_run(session, input.workflow_id, input.status)

    @activity.defn(name="perform_chain_action")
    async def perform_chain_action(self, input: ActionEffect) -> dict[str, Any]:
        """Record the step `running`, run its effect once under `input.key`, record the
        outcome: a database effect in one transaction with its outcome, an email or webhook
        step's outcome once the email is sent or the call answered. One transaction for
        `running` and one for the effect and outcome is the least a step costs.

        Errors reach the step as the workflow records them, and every role reads steps: a
        database error is reported by what it interrupted, with its details in the log.
        """
        action = input.action
        doing = (
            action.doing
            if isinstance(action, EffectAction)
            else DOING.get(action.type, f"running the {action.type} action")
        )
        try:
            return await self._perform(input)
        except LeadpipeError as err:
            refuse(err)
        except SQLAlchemyError as err:
            activity.logger.warning("chain action failed on a database error", exc_info=True)
            raise ApplicationError(
                f"database error while {doing}",
                type="database-error",
                non_retryable=is_lasting(err),
            ) from None
        except Exception:
            activity.logger.exception("chain action failed")
            raise ApplicationError(
                f"unexpected error while {doing}; the worker log has the details",
                type="internal-error",
            ) from None

    async def _perform(self, input: ActionEffect) -> dict[str, Any]:
        action = input.action
        if commits_with_its_step(action):
            # Two transactions back to back, nothing between: one checkout serves both.
            async with one_connection(self._session_factory) as session:
                await self._start_step(session, input)
                # The effect and its step's outcome commit together: a crash leaves both or
                # neither, never a completed step without its effect nor an effect whose
                # step reads running.
                result = await heartbeating(self._effect_and_outcome(session, input, action))
        else:
            # Emails are sent, webhooks called, after their effect's transaction: a session
            # holds no connection between its transactions, so none is held meanwhile.
            async with self._session_factory() as session:
                action = await self._start_step(session, input)
                result = await heartbeating(self._effect(session, input, action))
                await self._deliver(action, result)
                await chain_runs.record_step(
                    session,
                    input.workflow_id,
                    action.id,
                    STEP_SEQ,
                    action.type,
                    outcome(result),
                    result=result,
                )
        if isinstance(action, AssignOwnerAction) and not result.get("skipped"):
            await self._orchestrator.refresh_lead(input.lead_id)
        created = result.get(chain_effects.CREATED_LEAD)
        if isinstance(created, int):
            # Its start is in the outbox (the relay would deliver it too): start it now.
            await outbox.relay_for(
                self._session_factory, self._orchestrator, workflow_id_for(created)
            )
        return result

    async def _start_step(self, session: AsyncSession, input: ActionEffect) -> Action:
        """Record the step `running` (shown while the effect runs and between its retries)
        -> the action to perform: a webhook as the run's pinned version has it, since the
        payload's copy has its secret and URL credentials masked."""
        action = input.action
        async with session.begin():
            await chain_runs.record_step(
                session, input.workflow_id, action.id, STEP_SEQ, action.type, "running"
            )
            if isinstance(action, WebhookAction):
                action = await chains.action_of_run(session, input.workflow_id, action.id)
        # The effect reads the rows it locks afresh, not as this transaction left them.
        session.expunge_all()
        return action

    def _effect(
        self, session: AsyncSession, input: ActionEffect, action: Action
    ) -> Coroutine[Any, Any, dict[str, Any]]:
        return chain_effects.perform(
            session,
            input.key,
            input.lead_id,
            action,
            http=self._http,
            webhook_secret=self._settings.webhook_secret,
            stage_entry_id=input.stage_entry_id,
        )

    async def _effect_and_outcome(
        self, session: AsyncSession, input: ActionEffect, action: Action
    ) -> dict[str, Any]:
        async with session.begin():
            result = await self._effect(session, input, action)
            await chain_runs.record_step(
                session,
                input.workflow_id,
                action.id,
                STEP_SEQ,
                action.type,
                outcome(result),
                result=result,
            )
            if self._settings.fault_point == "before_chain_step_commit":
                await session.flush()  # written, not committed: the crash must undo them
                activity.logger.warning(
                    "fault point before_chain_step_commit: killing this process"
                )
                os.kill(os.getpid(), signal.SIGKILL)
        return result

    async def _deliver(self, action: Action, result: dict[str, Any]) -> None:
        """Send the email an email step queued; raises while it is not sent."""
        if not isinstance(action, SendEmailAction | NotifyOwnerAction) or "email_id" not in result:
            return
        # An SMTP hand-off may take its whole timeout (30 s): heartbeat meanwhile.
        delivery = await heartbeating(self._email.send(result["email_id"]))
        result["status"] = delivery.status
        if delivery.status == "failed":
            raise Conflict(f"the email was not sent: {delivery.error}")
        if delivery.status != "sent":
            # Transient (the mail server is away, another sender holds the row): the
            # activity's retry sends it, until the email's own attempts run out.
            raise Unavailable(f"the email is not sent yet: {delivery.error or 'in progress'}")


def outcome(result: dict[str, Any]) -> str:
    return "skipped" if "skipped" in result else "completed"
