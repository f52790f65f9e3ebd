"""The Temporal side of lead use cases: start, update and signal lead workflows."""

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.activities import LeadEvent
from domain.errors import Conflict, FieldError, LeadpipeError, Unavailable
from domain.guided import ObjectKind
from domain.guided_evaluation import GuidedObjectInput, guided_workflow_id
from domain.leads import (
    LeadWorkflowInput,
    MoveStageRequest,
    StageChangeResult,
    workflow_id_for,
)

LEAD_WORKFLOW = "LeadWorkflow"
GUIDED_WORKFLOW = "GuidedObjectWorkflow"

# The SDK retries an unreachable server for about 10 s per call, and its rpc_timeout bounds
# each attempt only: a signal owed after a commit waits this long at most, then the outbox
# relay takes over.
CALL_TIMEOUT_SECONDS = 2.0
# What "the server did not answer" looks like, as opposed to a refusal of the call.
TRANSIENT = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.CANCELLED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
    }
)

T = TypeVar("T")


async def connect(target: str, namespace: str, *, lazy: bool = False) -> Client:
    """A client for the lead workflows; a lazy one connects at its first call and, while the
    server is down, again at each later call, so a process can start before Temporal does.

    Raises RuntimeError when not lazy and the server cannot be reached.
    """
    return await Client.connect(
        target,
        namespace=namespace,
        data_converter=pydantic_data_converter,
        lazy=lazy,
        # A dropped server's address can swallow the SYN; never hang a request on it.
        connect_timeout=timedelta(seconds=CALL_TIMEOUT_SECONDS),
    )


def guided_task_queue(task_queue: str) -> str:
    """The queue guided workflows start on: their evaluations come in bursts (many records'
    settle ending at once), and on a queue of their own, with few slots (worker.py), they
    wait there instead of queueing ahead of the lead workflows' tasks."""
    return f"{task_queue}-guided"


@dataclass(frozen=True)
class Orchestrator:
    client: Client
    task_queue: str
    lead_history_limit: int = 2000
    call_timeout: float = CALL_TIMEOUT_SECONDS

    async def _bounded(self, call: Awaitable[T]) -> T:
        """Await a short call to the server; raises Unavailable when it did not answer in time
        or could not be reached, and lets a refusal (any other RPCError) through."""
        try:
            async with asyncio.timeout(self.call_timeout):
                return await call
        except TimeoutError:
            raise Unavailable(
                f"the workflow engine did not answer within {self.call_timeout:g}s"
            ) from None
        except RPCError as err:
            if err.status in TRANSIENT:
                raise unavailable(err) from None
            raise
        except RuntimeError as err:
            raise cannot_connect(err) from None

    def _lead_input(self, lead_id: int) -> LeadWorkflowInput:
        return LeadWorkflowInput(lead_id=lead_id, history_limit=self.lead_history_limit)

    async def start_lead(self, lead_id: int, summary: str) -> None:
        """Start `lead-<id>`; a second call while it runs is a no-op (idempotent create).

        Raises Unavailable when the server does not answer within `call_timeout`.
        """
        await self._bounded(
            self.client.start_workflow(
                LEAD_WORKFLOW,
                self._lead_input(lead_id),
                id=workflow_id_for(lead_id),
                task_queue=self.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                static_summary=summary,
            )
        )

    async def move_stage(self, lead_id: int, request: MoveStageRequest) -> StageChangeResult:
        """Move through the workflow's update; starts it again if the lead was closed.

        Raises the LeadpipeError the workflow's validator or transition activity reported.
        """
        start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            LEAD_WORKFLOW,
            self._lead_input(lead_id),
            id=workflow_id_for(lead_id),
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"Lead {lead_id} (reopened)",
        )
        try:
            result: StageChangeResult = await self.client.execute_update_with_start_workflow(
                "move_stage",
                request,
                start_workflow_operation=start,
                result_type=StageChangeResult,
            )
        except WorkflowUpdateFailedError as err:
            raise error_from_workflow(err.cause) from None
        except RPCError as err:
            raise unavailable(err) from None
        except RuntimeError as err:
            raise cannot_connect(err) from None
        return result

    async def deliver_event(self, lead_id: int, event: LeadEvent) -> bool:
        """Signal the lead's workflow; False when its run has closed.

        A plain signal reaches a running workflow (the usual case) at the least cost to the
        server. Only when no run is open does signal-with-start decide: it starts a workflow
        that never ran (its start still owed), while REJECT_DUPLICATE keeps a lead whose
        workflow completed (qualified, disqualified) from getting a fresh run from an activity;
        only a stage move reopens it.

        Raises Unavailable when the server does not answer within `call_timeout` (per call).
        """
        return await self._signal_lead(lead_id, "activity", event)

    async def deliver_events(self, lead_id: int, events: list[LeadEvent]) -> bool:
        """Several events for one lead in one signal (`activities`), as `deliver_event`."""
        return await self._signal_lead(lead_id, "activities", events)

    async def _signal_lead(self, lead_id: int, signal: str, arg: object) -> bool:
        try:
            await self._bounded(
                self.client.get_workflow_handle(workflow_id_for(lead_id)).signal(signal, arg)
            )
            return True
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
        try:
            await self._bounded(
                self.client.start_workflow(
                    LEAD_WORKFLOW,
                    self._lead_input(lead_id),
                    id=workflow_id_for(lead_id),
                    task_queue=self.task_queue,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    start_signal=signal,
                    start_signal_args=[arg],
                    static_summary=f"Lead {lead_id}",
                )
            )
        except WorkflowAlreadyStartedError:
            return False
        return True

    async def refresh_lead(self, lead_id: int) -> None:
        """Tell a running lead workflow its lead changed; a completed one has nothing to do.

        Raises Unavailable when the server does not answer.
        """
        try:
            await self._bounded(
                self.client.get_workflow_handle(workflow_id_for(lead_id)).signal("refresh")
            )
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise unavailable(err) from None

    async def evaluate_guided(self, kind: ObjectKind, object_id: int) -> None:
        """Signal-with-start the record's guided workflow: a running one evaluates again at
        once (its timer cancelled), a completed one starts a new run.

        Raises Unavailable when the server does not answer within `call_timeout`.
        """
        await self._bounded(
            self.client.start_workflow(
                GUIDED_WORKFLOW,
                GuidedObjectInput(object=kind, object_id=object_id),
                id=guided_workflow_id(kind, object_id),
                task_queue=guided_task_queue(self.task_queue),
                start_signal="changed",
                static_summary=f"Guided actions of {kind.value} {object_id}",
            )
        )

    async def probe(self) -> str | None:
        """None when the server answers within `call_timeout`, else why it did not."""
        try:
            await self._bounded(
                self.client.workflow_service.get_system_info(GetSystemInfoRequest())
            )
        except (Unavailable, RPCError) as err:
            return str(err)
        return None


def unavailable(err: RPCError) -> Unavailable:
    return Unavailable(f"the workflow engine did not answer: {err.message}")


def cannot_connect(err: RuntimeError) -> Unavailable:
    """A lazy client that cannot connect says so with a plain RuntimeError; re-raises any
    other RuntimeError, which is a bug rather than an outage."""
    if not str(err).startswith("Failed client connect"):
        raise err
    return Unavailable(f"the workflow engine cannot be reached: {str(err)[:300]}")


def error_payload(err: LeadpipeError) -> dict[str, Any]:
    """How a LeadpipeError crosses Temporal: as an ApplicationError's details."""
    return {
        "status": err.status,
        "title": err.title,
        "errors": [e.__dict__ for e in err.errors],
    }


def error_from_workflow(cause: BaseException | None) -> LeadpipeError:
    """Turn a workflow-side refusal back into the LeadpipeError it was."""
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    if cause is None:
        return Unavailable("the lead workflow failed to apply the change")
    if cause.type == "already-in-stage":
        return Conflict(cause.message)
    details = cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {}
    err = LeadpipeError(cause.message, [FieldError(**e) for e in details.get("errors", [])])
    err.status = int(details.get("status", 422))
    err.type = cause.type or "invalid-transition"
    err.title = str(details.get("title", "Stage move not allowed"))
    return err
