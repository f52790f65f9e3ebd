"""GuidedObjectWorkflow: the guided actions of one record (`guided-<object>-<id>`).

A change to the record (or to a fact its types read) signals `changed`, with start: the
workflow evaluates the record's types through an activity, which creates, fills or ends the
items, and then sleeps on a durable timer until the next instant at which time alone could
change a verdict (a creation delay ending, a window closing). A change that arrives first
cancels that timer and evaluates again. With nothing left to wait for, the workflow completes;
the next change starts it again. No table is ever scanned for what is due.
"""

import contextlib
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.guided_evaluation import (
        EvaluateObjectInput,
        EvaluationResult,
        GuidedObjectInput,
    )

EVALUATE_TIMEOUT = timedelta(seconds=30)
# The database being down must not lose an evaluation: retry for as long as it lasts.
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=0,
)


@workflow.defn
class GuidedObjectWorkflow:
    @workflow.init
    def __init__(self, input: GuidedObjectInput) -> None:
        self._input = input
        # Changes signalled so far; the loop compares it with the count it last evaluated.
        self._changes = 1 if input.pending_change else 0

    @workflow.signal
    def changed(self) -> None:
        """The record, or something its guided-action types read, changed: evaluate again."""
        self._changes += 1

    @workflow.run
    async def run(self, input: GuidedObjectInput) -> None:
        record = f"{input.object.value} {input.object_id}"
        evaluated = 0  # the changes the last evaluation saw
        for _ in range(input.evaluations_per_run):
            seen = self._changes
            result = await self._evaluate(input, cascade=seen > evaluated)
            evaluated = seen
            workflow.set_current_details(
                f"**{record}**: {result.open_items} open guided-action item(s). "
                + (
                    f"Next check {result.wake_at.isoformat()} ({result.wake_reason})."
                    if result.wake_at
                    else "Nothing due by time."
                )
            )
            if result.wake_at is None:
                if self._changes == seen:
                    return  # only a change can alter a verdict now, and it starts a new run
                continue
            # Recorded in history with the result: replay computes the same delay.
            clock = max(workflow.now(), result.evaluated_at or workflow.now())
            delay = result.wake_at - clock
            if delay > timedelta(0) and self._changes == seen:
                # A change cancels the timer: the item it would have expired may be gone.
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        self._changed_since(seen),
                        timeout=delay,
                        timeout_summary=f"{result.wake_reason} ({record})"[:200],
                    )
        # A record watched for long (many changes) hands over before its history grows.
        workflow.continue_as_new(
            input.model_copy(update={"pending_change": self._changes > evaluated})
        )

    def _changed_since(self, seen: int) -> Callable[[], bool]:
        return lambda: self._changes != seen

    async def _evaluate(self, input: GuidedObjectInput, *, cascade: bool) -> EvaluationResult:
        # A local activity: a short transaction run inside the workflow task, so creating an
        # item costs one workflow task and no activity task, and the history stays small.
        result: EvaluationResult = await workflow.execute_local_activity(
            "evaluate_guided_object",
            EvaluateObjectInput(
                object=input.object,
                object_id=input.object_id,
                now=workflow.now(),
                cascade=cascade,
            ),
            result_type=EvaluationResult,
            start_to_close_timeout=EVALUATE_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=f"evaluate {input.object.value} {input.object_id}",
        )
        return result
