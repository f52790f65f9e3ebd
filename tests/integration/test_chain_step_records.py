"""A chain step's records and its effect, as `perform_chain_action` writes them: the step reads
`running` from its own first transaction; a database effect commits in one transaction with
its step's outcome; an email step completes once its email is sent. The activity runs in an
ActivityEnvironment against the real database, on an engine of the test's own so that only
its transactions are observed."""

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.chains import ChainActivities
from config import Settings, to_sqlalchemy_url
from db.engine import SessionFactory, create_engine, create_session_factory
from db.models import ChainRun, ChainStep, Deal, EmailOutboxMessage, Task
from db.repositories import chains as chains_repo
from db.repositories import leads as leads_repo
from domain.chain_execution import ActionEffect, ChainRunEnd, ChainStepRecord, effect_key
from domain.chains import Action, assign_ids, parse_actions
from domain.errors import NotFound
from services import chain_runs
from services.orchestrator import Orchestrator

WRITE = re.compile(r"^\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+(\w+)", re.IGNORECASE)


@dataclass
class Transactions:
    """The tables each committed transaction wrote, in commit order."""

    committed: list[set[str]] = field(default_factory=list)
    _open: set[str] = field(default_factory=set)

    def watch(self, engine: AsyncEngine) -> None:
        def wrote(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if match := WRITE.match(statement):
                self._open.add(match.group(1))

        def committed(conn: Any) -> None:
            self.committed.append(self._open)
            self._open = set()

        def rolled_back(conn: Any) -> None:
            self._open = set()

        event.listen(engine.sync_engine, "before_cursor_execute", wrote)
        event.listen(engine.sync_engine, "commit", committed)
        event.listen(engine.sync_engine, "rollback", rolled_back)


@pytest.fixture
async def own_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(to_sqlalchemy_url(database_url))
    yield engine
    await engine.dispose()


@pytest.fixture
def transactions(own_engine: AsyncEngine) -> Transactions:
    watched = Transactions()
    watched.watch(own_engine)
    return watched


@pytest.fixture
async def chain(
    own_engine: AsyncEngine, settings: Settings, orchestrator: Orchestrator
) -> AsyncIterator[ChainActivities]:
    async with httpx.AsyncClient() as http:
        yield ChainActivities(create_session_factory(own_engine), orchestrator, settings, http)


@dataclass(frozen=True)
class Run:
    workflow_id: str
    lead_id: int
    stage_entry_id: int | None

    def effect(self, action: Action) -> ActionEffect:
        return ActionEffect(
            workflow_id=self.workflow_id,
            lead_id=self.lead_id,
            key=effect_key(self.workflow_id, action.id),
            action=action,
            stage_entry_id=self.stage_entry_id,
        )


@pytest.fixture
async def run(make_user, make_lead, admin, session_factory: SessionFactory) -> Run:
    """A started run for an owned lead whose contact has an email address."""
    owner, _ = await make_user("sales_user", seat="current")
    email = f"kim-{uuid.uuid4().hex[:8]}@example.com"
    contact = await admin.ok("post", "/contacts", {"first_name": "Kim", "email": email}, 201)
    lead = await make_lead(owner_id=owner["id"], contact_id=contact["id"])
    workflow_id = f"chain-{uuid.uuid4().hex}"
    async with session_factory() as session:
        entry = await leads_repo.stage_entry_id(session, lead["id"], lead["stage_id"])
    async with session_factory() as session:
        await chain_runs.start_run(
            session, workflow_id, lead["id"], lead["pipeline_id"], lead["stage_id"], 1
        )
    return Run(workflow_id, lead["id"], entry)


def action(raw: dict[str, Any]) -> Action:
    (parsed,) = parse_actions(assign_ids([raw]))
    return parsed


async def step_of(session_factory: SessionFactory, run: Run, action_id: str) -> ChainStep | None:
    async with session_factory() as session:
        return await session.scalar(
            select(ChainStep)
            .join(ChainRun, ChainRun.id == ChainStep.run_id)
            .where(ChainRun.workflow_id == run.workflow_id, ChainStep.action_id == action_id)
        )


async def count(session_factory: SessionFactory, model: Any, *where: Any) -> int:
    async with session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


TASK_CONFIG = {"title": "Call {{contact.first_name}}", "due_in": "P1D"}
TASK = {"type": "create_task", "config": TASK_CONFIG}


class TestDatabaseSteps:
    async def test_the_effect_commits_in_one_transaction_with_the_steps_outcome(
        self, chain, run: Run, transactions: Transactions, session_factory
    ) -> None:
        # High priority and due: a task guided actions may list, so it owes an evaluation.
        task = action({"type": "create_task", "config": {**TASK_CONFIG, "priority": "high"}})
        result = await ActivityEnvironment().run(chain.perform_chain_action, run.effect(task))
        # First `running` alone, then the task (and the guided-action evaluation it owes)
        # with the step's `completed`.
        assert transactions.committed == [{"chain_steps"}, {"tasks", "outbox", "chain_steps"}]
        step = await step_of(session_factory, run, task.id)
        assert step is not None and step.status == "completed" and step.result == result
        async with session_factory() as session:
            made = await session.get(Task, result["task_id"])
        assert made is not None and made.title == "Call Kim" and made.lead_id == run.lead_id

    async def test_a_refused_effect_leaves_nothing_but_its_running_step(
        self, chain, run: Run, transactions: Transactions, session_factory
    ) -> None:
        deal = action({"type": "create_deal", "config": {"name": "D", "pipeline_id": 999999}})
        with pytest.raises(ApplicationError) as refused:
            await ActivityEnvironment().run(chain.perform_chain_action, run.effect(deal))
        assert refused.value.non_retryable
        # The workflow records the failure from here (`record_chain_step`).
        step = await step_of(session_factory, run, deal.id)
        assert step is not None and step.status == "running" and step.result is None
        assert await count(session_factory, Deal, Deal.lead_id == run.lead_id) == 0
        assert transactions.committed == [{"chain_steps"}]

    async def test_a_repeat_answers_the_first_result_and_changes_nothing(
        self, chain, run: Run, session_factory
    ) -> None:
        task = action(TASK)
        environment = ActivityEnvironment()
        first = await environment.run(chain.perform_chain_action, run.effect(task))
        ended_at = (await step_of(session_factory, run, task.id)).ended_at  # type: ignore[union-attr]
        again = await environment.run(chain.perform_chain_action, run.effect(task))
        assert again == first
        assert await count(session_factory, Task, Task.lead_id == run.lead_id) == 1
        step = await step_of(session_factory, run, task.id)
        assert step is not None and step.status == "completed" and step.ended_at == ended_at

    async def test_a_lead_that_left_the_stage_entry_skips_the_step_with_nothing_done(
        self, chain, run: Run, session_factory
    ) -> None:
        task = action(TASK)
        gone = ActionEffect.model_validate(run.effect(task).model_dump() | {"stage_entry_id": -1})
        result = await ActivityEnvironment().run(chain.perform_chain_action, gone)
        assert result["left_stage"] is True
        step = await step_of(session_factory, run, task.id)
        assert step is not None and step.status == "skipped" and step.result == result
        assert await count(session_factory, Task, Task.lead_id == run.lead_id) == 0


class TestEmailSteps:
    async def test_an_email_step_completes_once_its_email_is_sent(
        self, chain, run: Run, transactions: Transactions, session_factory
    ) -> None:
        email = action({"type": "send_email", "config": {"subject": "Hi", "body": "Hello"}})
        result = await ActivityEnvironment().run(chain.perform_chain_action, run.effect(email))
        assert result["status"] == "sent"
        # The email is queued, claimed and sent in transactions of its own before the step
        # completes.
        assert transactions.committed[0] == {"chain_steps"}
        assert transactions.committed[1:-1] == [{"email_outbox"}] * 3
        assert transactions.committed[-1] == {"chain_steps"}
        step = await step_of(session_factory, run, email.id)
        assert step is not None and step.status == "completed" and step.result == result
        async with session_factory() as session:
            row = await session.get(EmailOutboxMessage, result["email_id"])
        assert row is not None and row.status == "sent"


class TestStepRecords:
    async def test_recording_a_step_of_a_run_never_started_is_not_found(
        self, session_factory
    ) -> None:
        async with session_factory() as session:
            with pytest.raises(NotFound):
                await chain_runs.record_step(
                    session, f"chain-{uuid.uuid4().hex}", "a_00000001", 1, "delay", "waiting"
                )

    async def test_a_later_record_without_a_result_keeps_the_one_recorded(
        self, run: Run, session_factory
    ) -> None:
        async with session_factory() as session:
            await chain_runs.record_step(
                session, run.workflow_id, "a_00000001", 1, "delay", "waiting", {"until": "x"}
            )
            await chain_runs.record_step(
                session, run.workflow_id, "a_00000001", 1, "delay", "waiting", error="late"
            )
        step = await step_of(session_factory, run, "a_00000001")
        assert step is not None and step.result == {"until": "x"} and step.error == "late"
        assert step.ended_at is None


class TestRunRecords:
    async def test_the_run_records_of_the_workflow_land_one_statement_each(
        self, chain, run: Run, session_factory
    ) -> None:
        environment = ActivityEnvironment()
        record = ChainStepRecord(
            workflow_id=run.workflow_id,
            action_id="a_00000009",
            type="delay",
            status="waiting",
            result={"until": "2030-01-01T00:00:00+00:00"},
        )
        await environment.run(chain.record_chain_step, record)
        await environment.run(
            chain.finish_chain_run, ChainRunEnd(workflow_id=run.workflow_id, status="stopped")
        )
        await environment.run(
            chain.finish_chain_run, ChainRunEnd(workflow_id=run.workflow_id, status="completed")
        )
        async with session_factory() as session:
            stored = await chains_repo.get_run(session, run.workflow_id)
        assert stored is not None and stored.status == "stopped" and stored.ended_at
        step = await step_of(session_factory, run, "a_00000009")
        assert step is not None and step.status == "waiting" and step.result == record.result

    async def test_a_run_reserved_pending_starts_running_and_keeps_its_reservation_time(
        self, run: Run, session_factory
    ) -> None:
        async with session_factory() as session, session.begin():
            stored = await chains_repo.get_run(session, run.workflow_id, for_update=True)
            assert stored is not None
            stored.status, reserved_at = "pending", stored.started_at
        async with session_factory() as session:
            await chain_runs.start_run(session, run.workflow_id, run.lead_id, 1, 1, 1)
        async with session_factory() as session:
            started = await chains_repo.get_run(session, run.workflow_id)
        assert started is not None and started.status == "running"
        assert started.started_at == reserved_at and started.version == 1

    async def test_finishing_a_run_never_started_is_not_found(self, session_factory) -> None:
        async with session_factory() as session:
            with pytest.raises(NotFound):
                await chain_runs.finish_run(session, f"chain-{uuid.uuid4().hex}", "completed")
