"""The guided-action workflow's (local) activity: evaluate one record's types in the
database."""

from datetime import UTC, datetime

from temporalio import activity

from db.engine import SessionFactory
from domain.guided_evaluation import EvaluateObjectInput, EvaluationResult
from services import guided_actions


class GuidedActivities:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._session_factory = session_factory

    @activity.defn(name="evaluate_guided_object")
    async def evaluate_guided_object(self, input: EvaluateObjectInput) -> EvaluationResult:
        """Run as a local activity (one short transaction): it does not heartbeat; a worker
        that dies in it fails the workflow task, which runs again elsewhere."""
        async with self._session_factory() as session:
            evaluation = await guided_actions.evaluate_record(
                session, input.object, input.object_id, input.now, cascade=input.cascade
            )
        return EvaluationResult(
            wake_at=evaluation.wake_at,
            wake_reason=evaluation.wake_reason,
            open_items=evaluation.open_items,
            evaluated_at=datetime.now(UTC),
        )
