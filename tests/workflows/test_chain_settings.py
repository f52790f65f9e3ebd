"""A chain's workflow-level settings as its runs obey them (ACT-7), on the time-skipping server:
enabled, re-enrollment, the execution window and what a run does when its lead leaves."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.chain_execution import StageChainInput
from domain.chains.settings import ChainSettings, OnLeave, ReEnrollment
from domain.chains.windows import ExecutionWindow
from domain.leads import MoveStageRequest
from tests.workflows.fake_chain_store import FakeChainStore, actions
from tests.workflows.fake_lead_store import FakeLeadStore
from tests.workflows.test_stage_chains import ATTEMPTING, CONNECTED, Stack
from workflows.lead import LeadWorkflow
from workflows.stage_chain import StageChainWorkflow

HELSINKI = ZoneInfo("Europe/Helsinki")
OFFICE_HOURS = ExecutionWindow(
    weekdays=(1, 2, 3, 4, 5), start=time(9), end=time(17), time_zone="Europe/Helsinki"
)
ONE_TASK = ({"type": "create_task", "config": {"title": "Call"}},)


async def stack_on(env: WorkflowEnvironment) -> AsyncIterator[Stack]:
    leads, chains = FakeLeadStore(entries=100), FakeChainStore()
    queue = f"chain-settings-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[LeadWorkflow, StageChainWorkflow],
        activities=leads.activities() + chains.activities(),
    ):
        yield Stack(env, env.client, leads, chains, queue)


@pytest.fixture
async def stack(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[Stack]:
    async for s in stack_on(time_skipping_env):
        yield s


@pytest.fixture
async def own_stack(own_time_skipping_env: WorkflowEnvironment) -> AsyncIterator[Stack]:
    """On a server of its own, so time skips while its chain waits."""
    async for s in stack_on(own_time_skipping_env):
        yield s


async def never_started(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return True
        raise
    return False


async def move(stack: Stack, lead, stage_id: int) -> int:
    """Move the lead; the entry's enrollment is decided when the move answers."""
    await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=stage_id))
    return stack.entry


class TestEnrollment:
    async def test_a_disabled_chain_starts_nothing_and_enabling_it_starts_the_next_entry(
        self, stack
    ) -> None:
        stack.chains.chains[ATTEMPTING] = [actions(*ONE_TASK)]
        stack.chains.settings[ATTEMPTING] = ChainSettings(enabled=False)
        lead = await stack.start_lead()
        off_entry = await move(stack, lead, ATTEMPTING)
        await move(stack, lead, CONNECTED)
        stack.chains.settings[ATTEMPTING] = ChainSettings(enabled=True)
        on_entry = await move(stack, lead, ATTEMPTING)
        assert await stack.finished(on_entry) == "completed"
        assert await never_started(stack.client, stack.chain_handle(off_entry).id)
        assert len(stack.chains.effects) == 1

    async def test_first_entry_only_runs_once_across_re_entries(self, stack) -> None:
        stack.chains.chains[ATTEMPTING] = [actions(*ONE_TASK)]
        stack.chains.settings[ATTEMPTING] = ChainSettings(
            re_enrollment=ReEnrollment.FIRST_ENTRY_ONLY
        )
        lead = await stack.start_lead()
        first = await move(stack, lead, ATTEMPTING)
        assert await stack.finished(first) == "completed"
        later = []
        for _ in range(2):
            await move(stack, lead, CONNECTED)
            later.append(await move(stack, lead, ATTEMPTING))
        for entry in later:
            assert await never_started(stack.client, stack.chain_handle(entry).id)
        assert len(stack.chains.effects) == 1

    async def test_every_entry_runs_again_on_a_re_entry(self, stack) -> None:
        stack.chains.chains[ATTEMPTING] = [actions(*ONE_TASK)]
        lead = await stack.start_lead()
        first = await move(stack, lead, ATTEMPTING)
        assert await stack.finished(first) == "completed"
        await move(stack, lead, CONNECTED)
        second = await move(stack, lead, ATTEMPTING)
        assert await stack.finished(second) == "completed"
        assert len(stack.chains.effects) == 2

    async def test_a_run_keeps_the_settings_it_started_with(self, stack) -> None:
        stack.chains.chains[ATTEMPTING] = [
            actions(
                {"type": "delay", "config": {"until_event": "email_reply", "timeout": "P7D"}},
                *ONE_TASK,
            )
        ]
        stack.chains.settings[ATTEMPTING] = ChainSettings(name="Before")
        lead = await stack.start_lead()
        entry = await move(stack, lead, ATTEMPTING)
        await stack.waiting()
        stack.chains.settings[ATTEMPTING] = ChainSettings(on_leave=OnLeave.FINISH)
        pinned = await stack.chain_handle(entry).fetch_history()
        started = pinned.events[0].workflow_execution_started_event_attributes
        assert b'"Before"' in started.input.payloads[0].data
        await move(stack, lead, CONNECTED)
        # Started under on_leave stop: the later switch to finish does not reach it.
        assert await stack.finished(entry) == "stopped"


def next_saturday_10_utc(now: datetime) -> datetime:
    days = (5 - now.weekday()) % 7 or 7
    return (now + timedelta(days=days)).replace(hour=10, minute=0, second=0, microsecond=0)


class TestExecutionWindow:
    async def test_a_step_due_on_saturday_waits_to_monday_nine_in_the_windows_zone(
        self, own_time_skipping_env
    ) -> None:
        env = own_time_skipping_env
        saturday = next_saturday_10_utc(await env.get_current_time())
        monday_nine = datetime.combine(
            (saturday + timedelta(days=2)).date(), time(9), tzinfo=HELSINKI
        )
        chains = FakeChainStore()
        chain = actions(
            {"type": "delay", "config": {"until": saturday.isoformat()}},
            {"type": "create_task", "config": {"title": "Monday call"}},
        )
        chains.clock = env.get_current_time
        queue = f"window-{uuid.uuid4()}"
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[StageChainWorkflow],
            activities=chains.activities(),
        ):
            status = await env.client.execute_workflow(
                StageChainWorkflow.run,
                StageChainInput(
                    lead_id=1,
                    pipeline_id=1,
                    stage_id=ATTEMPTING,
                    stage_entry_id=1,
                    version=1,
                    actions=chain,
                    settings=ChainSettings(window=OFFICE_HOURS),
                ),
                id=f"chain-{uuid.uuid4()}",
                task_queue=queue,
            )
        assert status == "completed"
        task = chain[1]
        ran_at = chains.effect_times[task.id]
        assert monday_nine <= ran_at < monday_nine + timedelta(minutes=1)
        assert ran_at.astimezone(HELSINKI).isoweekday() == 1
        waited = next(s for s in chains.steps if s.action_id == task.id)
        assert waited.status == "waiting"
        assert waited.result == {"until": monday_nine.astimezone(UTC).isoformat(), "for": "window"}

    async def test_leaving_the_stage_during_a_window_wait_stops_the_run(self, stack) -> None:
        # A window that opens only on a day other than today: the first step waits for it.
        today = (await stack.env.get_current_time()).astimezone(HELSINKI).isoweekday()
        elsewhere = ExecutionWindow(
            weekdays=(today % 7 + 1,), start=time(9), end=time(17), time_zone="Europe/Helsinki"
        )
        stack.chains.chains[ATTEMPTING] = [actions(*ONE_TASK)]
        stack.chains.settings[ATTEMPTING] = ChainSettings(window=elsewhere)
        lead = await stack.start_lead()
        entry = await move(stack, lead, ATTEMPTING)
        while not any(s.status == "waiting" for s in stack.chains.steps):
            await asyncio.sleep(0.02)
        await move(stack, lead, CONNECTED)
        assert await stack.finished(entry) == "stopped"
        assert stack.chains.effects == {}
        assert [s.status for s in stack.chains.steps] == ["waiting", "skipped"]


class TestOnLeave:
    async def test_finish_keeps_a_run_going_after_the_lead_leaves(self, own_stack) -> None:
        stack = own_stack
        chain = actions(
            {"type": "create_task", "config": {"title": "First"}},
            {"type": "delay", "config": {"duration": "P7D"}},
            {"type": "create_task", "config": {"title": "A week later"}},
        )
        stack.chains.chains[ATTEMPTING] = [chain]
        stack.chains.settings[ATTEMPTING] = ChainSettings(on_leave=OnLeave.FINISH)
        lead = await stack.start_lead()
        entry = await move(stack, lead, ATTEMPTING)
        await stack.waiting()
        await move(stack, lead, CONNECTED)
        await stack.env.sleep(timedelta(days=8))  # the time-skipping server skips the week
        assert await stack.finished(entry) == "completed"
        assert [a.action.id for a in stack.chains.calls] == [chain[0].id, chain[2].id]
        # Its effects act wherever the lead is now.
        assert stack.chains.calls[-1].stage_entry_id is None
        delay_done = next(
            s for s in stack.chains.steps if s.type == "delay" and s.status == "completed"
        )
        assert delay_done.result and delay_done.result["ended_by"] == "timer"

    async def test_stop_ends_the_run_when_the_lead_leaves(self, stack) -> None:
        stack.chains.chains[ATTEMPTING] = [
            actions(
                {"type": "delay", "config": {"duration": "P7D"}},
                *ONE_TASK,
            )
        ]
        stack.chains.settings[ATTEMPTING] = ChainSettings(on_leave=OnLeave.STOP)
        lead = await stack.start_lead()
        entry = await move(stack, lead, ATTEMPTING)
        await stack.waiting()
        await move(stack, lead, CONNECTED)
        assert await stack.finished(entry) == "stopped"
        assert stack.chains.effects == {}
