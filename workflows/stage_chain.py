"""StageChainWorkflow: one run of a stage's action chain for one stage entry of a lead.

Started by LeadWorkflow as a child that outlives its parent's continue-as-new (ParentClosePolicy
ABANDON). Each side effect runs under an idempotency key, so a worker killed at any point
makes no second task, email, deal or webhook call: database-only effects as local activities
inside the workflow task, emails and webhooks as heartbeating activities. Delays are durable
timers.

Leaving the stage: the lead workflow signals `stop`; a waiting delay ends at once, and the run
stops before its next step (an effect already running completes), recorded as `stopped`; a run
whose every action had its turn reads `completed` even if the lead left afterwards. An effect
that starts after the lead left (the stop was still on its way) does nothing, and the run stops.
A run whose settings say `on_leave: finish` (ACT-7) ignores the stop and runs to its end; it
hears no more lead events once the lead has left, so a wait for an event then ends by timeout.

Execution window (ACT-7): a step due outside the settings' window waits on a durable timer for
the window's next opening (recorded as `waiting` with `until` and `for: window`).

Infrastructure errors (database, worker) retry for as long as they last; a business refusal
(a non-retryable ApplicationError) fails its step and ends the run as `failed`.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.activities import LeadEvent
    from domain.chain_execution import (
        LEFT_STAGE,
        ActionEffect,
        ChainContextRequest,
        ChainRunEnd,
        ChainRunStart,
        ChainStepRecord,
        StageChainInput,
        commits_with_its_step,
        effect_key,
    )
    from domain.chains import (
        DELAY_EVENT_TYPES,
        Action,
        BranchAction,
        ChainContext,
        DelayAction,
        DelayKind,
        evaluate_condition,
        resolve_delay,
    )
    from domain.chains.settings import OnLeave
    from domain.chains.windows import next_opening

RECORD_TIMEOUT = timedelta(seconds=30)
RECORD_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=0,
)
# No attempt cap: an outage of any length must not fail a step for good (a cap of 5 gave up
# after 15 s of PostgreSQL downtime). The ceiling keeps the wait after recovery short.
EFFECT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=0,
)
EFFECT_TIMEOUT = timedelta(seconds=60)
# Shorter than EFFECT_RETRY's first interval.
LOCAL_RETRY_THRESHOLD = timedelta(milliseconds=500)
# The effect activity heartbeats: a dead worker's attempt is retried within this.
EFFECT_HEARTBEAT = timedelta(seconds=10)
# Events that arrive while a waiting step is recorded count for the wait.
EVENTS_FROM_DELAY_START_PATCH = "events-from-delay-start"
# Marks the histories whose run stops when an effect finds the lead gone from the stage;
# older ones went on to the next action.
LEFT_STAGE_PATCH = "stop-when-lead-left"
# Marks the histories whose database-only effects run as local activities; older ones ran
# every effect as an activity.
LOCAL_EFFECTS_PATCH = "database-effects-local"


class ChainFailed(Exception):
    """An action failed after its retries: the run ends as failed."""


@workflow.defn
class StageChainWorkflow:
    def __init__(self) -> None:
        self._lead_left = False
        self._ran_local_effect = False
        self._seen_event_types: set[str] = set()

    @workflow.run
    async def run(self, input: StageChainInput) -> str:
        self._input = input
        await self._record(
            "start_chain_run",
            ChainRunStart(
                workflow_id=self._workflow_id,
                lead_id=input.lead_id,
                pipeline_id=input.pipeline_id,
                stage_id=input.stage_id,
                version=input.version,
            ),
        )
        try:
            ran_all = await self._run_actions(input.actions)
            status = "completed" if ran_all else "stopped"
        except ChainFailed:
            status = "failed"
        end = ChainRunEnd(workflow_id=self._workflow_id, status=status)
        if self._ran_local_effect:
            # The task that ran an effect locally must not also complete the run: a signal (a
            # stop) arriving meanwhile makes the server refuse it, and its retry would see the
            # signal before effects already done. An activity's schedule ends that task.
            await workflow.execute_activity(
                "finish_chain_run",
                end,
                start_to_close_timeout=RECORD_TIMEOUT,
                retry_policy=RECORD_RETRY,
            )
        else:
            await self._record("finish_chain_run", end)
        return status

    @workflow.signal
    def stop(self) -> None:
        """The lead left the stage."""
        self._lead_left = True

    @property
    def _is_stopped(self) -> bool:
        # Signals can be handled before `run` has the input: read the setting only here.
        return self._lead_left and self._input.settings.on_leave == OnLeave.STOP

    @workflow.signal
    def lead_event(self, event: LeadEvent) -> None:
        self._seen_event_types.add(event.type)

    @property
    def _finishes(self) -> bool:
        return self._input.settings.on_leave == OnLeave.FINISH

    @property
    def _workflow_id(self) -> str:
        return workflow.info().workflow_id

    async def _run_actions(self, actions: list[Action]) -> bool:
        """True when every action had its turn; False when a stop skipped one or cut a delay."""
        for action in actions:
            if self._is_stopped:
                return False
            if isinstance(action, DelayAction):
                if not await self._delay(action):
                    return False
            elif isinstance(action, BranchAction):
                context = await self._context()
                took_then = evaluate_condition(action.config.if_, context)
                await self._step(
                    action, "completed", result={"branch": "then" if took_then else "else"}
                )
                if not await self._run_actions(
                    action.config.then if took_then else (action.config.else_ or [])
                ):
                    return False
            elif not await self._in_window(action) or not await self._effect(action):
                return False
        return True

    async def _in_window(self, action: Action) -> bool:
        """Wait for the execution window to open; False when a stop came first."""
        window = self._input.settings.window
        if window is None:
            return True
        now = workflow.now()
        opens_at = next_opening(now, window)
        if opens_at <= now:
            return True
        until = opens_at.isoformat()
        await self._step(action, "waiting", result={"until": until, "for": "window"})
        try:
            await workflow.wait_condition(lambda: self._is_stopped, timeout=opens_at - now)
        except TimeoutError:
            return True
        await self._step(action, "skipped", result={"until": until, "ended_by": "stop"})
        return False

    async def _delay(self, action: DelayAction) -> bool:
        """Wait out the delay; False when a stop ended it early."""
        config = action.config
        now = workflow.now()
        ends_at = resolve_delay(config, now)
        wanted = DELAY_EVENT_TYPES.get(config.until_event or "", frozenset())
        # The wait counts events from the delay's start: cleared before the step is recorded,
        # so an event arriving while that record is written is not lost.
        waits_for_event = config.kind == DelayKind.UNTIL_EVENT
        counts_from_start = waits_for_event and workflow.patched(EVENTS_FROM_DELAY_START_PATCH)
        if counts_from_start:
            self._seen_event_types.clear()
        await self._step(action, "waiting", result={"until": ends_at.isoformat()})
        if waits_for_event and not counts_from_start:
            self._seen_event_types.clear()
        ended_by = "timeout" if wanted else "timer"
        if ends_at > now:
            try:
                await workflow.wait_condition(
                    lambda: self._is_stopped or bool(wanted & self._seen_event_types),
                    timeout=ends_at - now,
                )
                ended_by = "stop" if self._is_stopped else "event"
            except TimeoutError:
                pass
        await self._step(
            action, "completed", result={"until": ends_at.isoformat(), "ended_by": ended_by}
        )
        return ended_by != "stop"

    async def _effect(self, action: Action) -> bool:
        """Run the action's effect; False when the lead had already left the stage.

        The stop signal can come after the lead left (the lead workflow sends it once the
        move is written), so the effect itself checks, in its transaction, that the lead is
        still in this stage entry, and does nothing if not: then the run stops here.
        """
        effect = ActionEffect(
            workflow_id=self._workflow_id,
            lead_id=self._input.lead_id,
            key=effect_key(self._workflow_id, action.id),
            action=action,
            # A run that finishes after its lead left acts wherever the lead is.
            stage_entry_id=None if self._finishes else self._input.stage_entry_id,
        )
        try:
            if commits_with_its_step(action) and workflow.patched(LOCAL_EFFECTS_PATCH):
                self._ran_local_effect = True
                # Database writes alone, in one short transaction with the step's outcome: run
                # inside the workflow task, as no activity task round trip is needed. Its key
                # keeps it exactly once when a task that ran it is run again.
                result = await workflow.execute_local_activity(
                    "perform_chain_action",
                    effect,
                    start_to_close_timeout=EFFECT_TIMEOUT,
                    retry_policy=EFFECT_RETRY,
                    # Each retry waits on a durable timer, never in the worker: an outage holds
                    # no workflow task slot.
                    local_retry_threshold=LOCAL_RETRY_THRESHOLD,
                    summary=f"{action.type} ({action.id})",
                )
            else:
                result = await workflow.execute_activity(
                    "perform_chain_action",
                    effect,
                    start_to_close_timeout=EFFECT_TIMEOUT,
                    heartbeat_timeout=EFFECT_HEARTBEAT,
                    retry_policy=EFFECT_RETRY,
                )
        # An activity's failure comes wrapped in an ActivityError; a local activity's refusal
        # comes as the ApplicationError it raised.
        except (ActivityError, ApplicationError) as err:
            cause = err.cause if isinstance(err, ActivityError) else err
            message = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
            await self._step(action, "failed", error=message)
            raise ChainFailed(message) from None
        left = isinstance(result, dict) and bool(result.get(LEFT_STAGE))
        # Asked only when it happens, so other histories carry no marker.
        return not (left and workflow.patched(LEFT_STAGE_PATCH))

    async def _context(self) -> ChainContext:
        context: ChainContext = await workflow.execute_activity(
            "load_chain_context",
            ChainContextRequest(lead_id=self._input.lead_id),
            result_type=ChainContext,
            start_to_close_timeout=RECORD_TIMEOUT,
            retry_policy=RECORD_RETRY,
        )
        return context

    async def _step(
        self,
        action: Action,
        status: str,
        *,
        result: dict[str, object] | None = None,
        error: str | None = None,
    ) -> None:
        await self._record(
            "record_chain_step",
            ChainStepRecord(
                workflow_id=self._workflow_id,
                action_id=action.id,
                type=action.type,
                status=status,
                result=result,
                error=error,
            ),
        )

    async def _record(self, activity: str, record: object) -> None:
        await workflow.execute_local_activity(
            activity, record, start_to_close_timeout=RECORD_TIMEOUT, retry_policy=RECORD_RETRY
        )
