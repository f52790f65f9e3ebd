"""The guided-action workflow on the time-skipping server over real PostgreSQL: records are
written to the test database, the real evaluation activity reads them, and each evaluation is
reported to the test so it can wait for the one a timer caused."""

import asyncio
import contextlib
import time
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
from db.models import (
    Contact,
    Deal,
    GuidedAction,
    GuidedActionItem,
    Lead,
    Pipeline,
    Stage,
    User,
)
from db.repositories import outbox as outbox_repo
from domain.guided import TYPES, GuidedType, ObjectKind
from domain.guided_evaluation import (
    EvaluateObjectInput,
    EvaluationResult,
    GuidedObjectInput,
    guided_workflow_id,
)
from services import activities as activity_service
from services import outbox
from services.activities import NewActivity
from services.orchestrator import Orchestrator, guided_task_queue
from workflows.guided_object import GuidedObjectWorkflow

# Waiting for an evaluation the test knows is due; a bound so a broken timer fails the test.
EVALUATION_WAIT = 60.0

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def near(at: datetime, expected: datetime) -> bool:
    """At the expected instant, not before it and within the minute (timers fire at it)."""
    return expected <= at < expected + MINUTE


@dataclass(frozen=True)
class Evaluation:
    input: EvaluateObjectInput
    # time.monotonic() as the activity began: it read every change committed before then.
    began: float


class ReportedEvaluations:
    """The real activity, reporting every evaluation it finished (which record, at what clock,
    begun when)."""

    def __init__(self, session_factory: SessionFactory) -> None:
        self._real = GuidedActivities(session_factory)
        self.finished: asyncio.Queue[Evaluation] = asyncio.Queue()

    @activity.defn(name="evaluate_guided_object")
    async def evaluate_guided_object(self, input: EvaluateObjectInput) -> EvaluationResult:
        began = time.monotonic()
        result = await self._real.evaluate_guided_object(input)
        self.finished.put_nowait(Evaluation(input, began))
        return result


@dataclass
class GuidedStack:
    env: WorkflowEnvironment
    session_factory: SessionFactory
    evaluations: ReportedEvaluations
    task_queue: str
    orchestrator: Orchestrator
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

    async def actor(self, user_id: int) -> User:
        """The user, as services take the caller."""
        async with self.session_factory() as session:
            found = await session.get(User, user_id)
        assert found is not None
        return found

    async def stages(self, pipeline_object: str) -> list[Stage]:
        """The stages of the default pipeline for `pipeline_object` (`deal`, `lead`), in order."""
        async with self.session_factory() as session:
            rows = await session.scalars(
                select(Stage)
                .join(Pipeline, Pipeline.id == Stage.pipeline_id)
                .where(
                    Pipeline.object == pipeline_object,
                    Pipeline.is_default,
                    Stage.removed_at.is_(None),
                )
                .order_by(Stage.position)
            )
            return list(rows.all())

    async def stage_of_kind(self, pipeline_object: str, kind: str) -> Stage:
        """The first stage of that kind (`open`, `won`, `lost`, `disqualified`...)."""
        return next(s for s in await self.stages(pipeline_object) if s.kind == kind)

    async def first_deal_stage(self) -> tuple[int, int]:
        """The default deal pipeline and its first stage."""
        first = (await self.stages("deal"))[0]
        return first.pipeline_id, first.id

    async def contact(self, owner_id: int | None, **fields: Any) -> Contact:
        fields.setdefault("email", "ann@buyer.example")
        contact = Contact(first_name="Ann", owner_id=owner_id, **fields)
        await self.add(contact)
        return contact

    async def lead(self, owner_id: int | None, stage: Stage, **fields: Any) -> Lead:
        lead = Lead(
            name="Acme lead",
            pipeline_id=stage.pipeline_id,
            stage_id=stage.id,
            owner_id=owner_id,
            **fields,
        )
        await self.add(lead)
        return lead

    async def deal(self, owner_id: int | None, stage: Stage, **fields: Any) -> Deal:
        created = fields.pop("created_at", await self.now())
        deal = Deal(
            name="Acme renewal",
            pipeline_id=stage.pipeline_id,
            stage_id=stage.id,
            owner_id=owner_id,
            created_at=created,
            stage_entered_at=created,
            **fields,
        )
        await self.add(deal)
        return deal

    async def activity(self, activity_type: str, occurred_at: datetime, **fields: Any) -> None:
        """Post an activity through the service (it owes the evaluation of every record it
        names; `relay` delivers it)."""
        data = NewActivity(
            event_id=f"guided-{uuid.uuid4()}",
            type=activity_type,
            occurred_at=occurred_at,
            **fields,
        )
        async with self.session_factory() as session, session.begin():
            await activity_service.store_activity(session, data)

    async def watch(self, kind: ObjectKind, object_id: int) -> datetime:
        """Start the record's workflow and return the clock of its first evaluation, which
        reads every change made so far: the evaluations the seeding owed it are dropped."""
        async with self.session_factory() as session, session.begin():
            workflow_id = guided_workflow_id(kind, object_id)
            owed = await outbox_repo.undelivered_ids(session, workflow_id)
            await outbox_repo.remove(session, owed)
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
        finished = await asyncio.wait_for(self.evaluations.finished.get(), EVALUATION_WAIT)
        return finished.input.now

    async def evaluated_record(self, kind: ObjectKind, object_id: int, since: float) -> datetime:
        """The clock of the first evaluation of this record begun after `since` (a
        time.monotonic() taken after the change committed); earlier ones, or other records',
        are passed over."""
        while True:
            finished = await asyncio.wait_for(self.evaluations.finished.get(), EVALUATION_WAIT)
            if (finished.input.object, finished.input.object_id) == (kind, object_id) and (
                finished.began >= since
            ):
                return finished.input.now

    async def relay(self, kind: ObjectKind, object_id: int) -> datetime:
        """What the worker's outbox relay does for this record's workflow after a change:
        deliver the evaluations owed to it (signal-with-start); returns the clock of the
        evaluation they caused. The database is shared with other suites, so only this
        workflow's messages are relayed."""
        workflow_id = guided_workflow_id(kind, object_id)
        since = time.monotonic()
        delivered = await outbox.relay_for(self.session_factory, self.orchestrator, workflow_id)
        assert delivered > 0, f"the change owed {kind.value} {object_id} no evaluation"
        self.handles.append(self.env.client.get_workflow_handle(workflow_id))
        return await self.evaluated_record(kind, object_id, since)

    async def owes_nothing(self, kind: ObjectKind, object_id: int) -> bool:
        """Whether the relay finds no evaluation owed to this record's workflow."""
        workflow_id = guided_workflow_id(kind, object_id)
        return await outbox.relay_for(self.session_factory, self.orchestrator, workflow_id) == 0

    async def changed(self, kind: ObjectKind, object_id: int) -> datetime:
        """Signal-with-start the record's workflow, as the relay does, for a change written
        here rather than through a service; returns the clock of the evaluation it caused."""
        since = time.monotonic()
        await self.orchestrator.evaluate_guided(kind, object_id)
        self.handles.append(
            self.env.client.get_workflow_handle(guided_workflow_id(kind, object_id))
        )
        return await self.evaluated_record(kind, object_id, since)

    async def finished(self, kind: ObjectKind, object_id: int) -> None:
        """Wait for the record's workflow to complete: nothing is left for it to wait for."""
        await self.env.client.get_workflow_handle(guided_workflow_id(kind, object_id)).result()

    async def skip(self, duration: timedelta) -> None:
        await self.env.sleep(duration)

    def nothing_evaluated(self) -> bool:
        return self.evaluations.finished.empty()

    def forget_evaluations(self) -> None:
        """Drop the evaluations reported so far (ones the test does not assert on)."""
        while not self.evaluations.finished.empty():
            self.evaluations.finished.get_nowait()

    async def open_items(self, guided_type: GuidedType, object_id: int) -> list[GuidedActionItem]:
        return [i for i in await self.items(guided_type, object_id) if i.ended_at is None]

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
    orchestrator = Orchestrator(env.client, f"guided-{uuid.uuid4()}")
    task_queue = guided_task_queue(orchestrator.task_queue)
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[GuidedObjectWorkflow],
        activities=[evaluations.evaluate_guided_object],
    ):
        stack = GuidedStack(env, session_factory, evaluations, task_queue, orchestrator)
        try:
            yield stack
        finally:
            for handle in stack.handles:
                # A workflow left waiting would hold the server's clock for the next test.
                with contextlib.suppress(RPCError):  # it completed already
                    await handle.terminate("test over")
