"""The guided-action workflow on the time-skipping server over real PostgreSQL: records are
written to the test database, the real evaluation activity reads them, and each evaluation is
reported to the test so it can wait for the one a timer caused."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.guided import GuidedActivities
from db.engine import SessionFactory
from db.models import GuidedAction, GuidedActionItem, Pipeline, Stage, User
from domain.guided import TYPES, GuidedType, ObjectKind
from domain.guided_evaluation import (
    EvaluateObjectInput,
    EvaluationResult,
    GuidedObjectInput,
    guided_workflow_id,
)
from workflows.guided_object import GuidedObjectWorkflow

# Waiting for an evaluation the test knows is due; a bound so a broken timer fails the test.
EVALUATION_WAIT = 60.0


class ReportedEvaluations:
    """The real activity, reporting the clock of every evaluation it finished."""

    def __init__(self, session_factory: SessionFactory) -> None:
        self._real = GuidedActivities(session_factory)
        self.finished: asyncio.Queue[datetime] = asyncio.Queue()

    @activity.defn(name="evaluate_guided_object")
    async def evaluate_guided_object(self, input: EvaluateObjectInput) -> EvaluationResult:
        result = await self._real.evaluate_guided_object(input)
        self.finished.put_nowait(input.now)
        return result


@dataclass
class GuidedStack:
    env: WorkflowEnvironment
    session_factory: SessionFactory
    evaluations: ReportedEvaluations
    task_queue: str
    handles: list[WorkflowHandle[Any, Any]] = field(default_factory=list)

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def add(self, *rows: Any) -> None:
        async with self.session_factory() as session, session.begin():
            session.add_all(rows)

    async def user(self, time_zone: str = "UTC") -> int:
        tag = uuid.uuid4().hex[:12]
        row = User(
            email=f"rep-{tag}@leadpipe.example",
            name=f"Rep {tag}",
            role="sales_user",
            seat="current",
            time_zone=time_zone,
            token_hash=uuid.uuid4().hex + uuid.uuid4().hex,
        )
        await self.add(row)
        return row.id

    async def first_deal_stage(self) -> tuple[int, int]:
        """The default deal pipeline and its first stage."""
        async with self.session_factory() as session:
            row = (
                await session.execute(
                    select(Pipeline.id, Stage.id)
                    .join(Stage, Stage.pipeline_id == Pipeline.id)
                    .where(Pipeline.object == "deal", Pipeline.is_default)
                    .order_by(Stage.position)
                    .limit(1)
                )
            ).one()
        return row[0], row[1]

    async def watch(self, kind: ObjectKind, object_id: int) -> datetime:
        """Start the record's workflow and return the clock of its first evaluation."""
        handle = await self.env.client.start_workflow(
            GuidedObjectWorkflow.run,
            GuidedObjectInput(object=kind, object_id=object_id),
            id=guided_workflow_id(kind, object_id),
            task_queue=self.task_queue,
        )
        self.handles.append(handle)
        return await self.evaluated()

    async def evaluated(self) -> datetime:
        """The clock of the next evaluation to finish."""
        return await asyncio.wait_for(self.evaluations.finished.get(), EVALUATION_WAIT)

    async def skip(self, duration: timedelta) -> None:
        await self.env.sleep(duration)

    def nothing_evaluated(self) -> bool:
        return self.evaluations.finished.empty()

    async def items(self, guided_type: GuidedType, object_id: int) -> list[GuidedActionItem]:
        """The items of this type listing the record, oldest first (open and ended)."""
        async with self.session_factory() as session:
            rows = await session.execute(
                select(GuidedActionItem)
                .join(GuidedAction, GuidedAction.id == GuidedActionItem.action_id)
                .where(
                    GuidedAction.type == guided_type.value,
                    GuidedActionItem.object == TYPES[guided_type].object.value,
                    GuidedActionItem.object_id == object_id,
                )
                .order_by(GuidedActionItem.id)
            )
            return list(rows.scalars())


@asynccontextmanager
async def guided_stack(
    env: WorkflowEnvironment, session_factory: SessionFactory
) -> AsyncIterator[GuidedStack]:
    evaluations = ReportedEvaluations(session_factory)
    task_queue = f"guided-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[GuidedObjectWorkflow],
        activities=[evaluations.evaluate_guided_object],
    ):
        stack = GuidedStack(env, session_factory, evaluations, task_queue)
        try:
            yield stack
        finally:
            for handle in stack.handles:
                # A workflow left waiting would hold the server's clock for the next test.
                with contextlib.suppress(RPCError):  # it completed already
                    await handle.terminate("test over")
