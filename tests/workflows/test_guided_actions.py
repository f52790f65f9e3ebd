"""Guided actions on durable timers (GA-1..GA-4, GA-11, GA-15): the record's workflow on the
time-skipping server, its evaluation against the real PostgreSQL tables."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.guided import GuidedActivities
from db.engine import SessionFactory
from db.models import (
    Company,
    Contact,
    GuidedAction,
    GuidedActionItem,
    Lead,
    Meeting,
    MeetingContact,
    Pipeline,
    Stage,
    Task,
    User,
)
from domain.guided import GuidedType, ObjectKind
from domain.guided_evaluation import guided_workflow_id
from domain.meetings import MeetingOutcome
from services import guided_actions, meetings, outbox
from services.orchestrator import Orchestrator, guided_task_queue
from tests.integration.eventually import eventually
from workflows.guided_object import GuidedObjectWorkflow


@dataclass
class Guided:
    env: WorkflowEnvironment
    orchestrator: Orchestrator
    session_factory: SessionFactory

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def add(self, *rows: Any) -> None:
        async with self.session_factory() as session, session.begin():
            for row in rows:
                session.add(row)
                await session.flush()

    async def user(self) -> User:
        user = User(
            email=f"{uuid.uuid4().hex[:10]}@seller.example",
            name="Sam Seller",
            role="sales_user",
            seat="current",
            token_hash=uuid.uuid4().hex,
        )
        await self.add(user)
        return user

    async def meeting(self, owner: User, start: datetime, end: datetime, **fields: Any) -> Meeting:
        meeting = Meeting(owner_id=owner.id, title="Demo", start=start, end=end, **fields)
        await self.add(meeting)
        return meeting

    async def changed(self, kind: ObjectKind, object_id: int) -> None:
        """What the outbox relay does after a change: signal-with-start the record's workflow."""
        await self.orchestrator.evaluate_guided(kind, object_id)

    async def relay(self, kind: ObjectKind, object_id: int) -> None:
        """The worker's outbox relay, for this record's workflow only (the database is shared
        with the other suites' relay)."""
        delivered = await outbox.relay_for(
            self.session_factory, self.orchestrator, guided_workflow_id(kind, object_id)
        )
        assert delivered > 0, "the change owed no evaluation"

    async def items(self, guided_type: GuidedType, user_id: int) -> list[GuidedActionItem]:
        """The user's items of this type, open or not, oldest first."""
        async with self.session_factory() as session:
            rows = await session.scalars(
                select(GuidedActionItem)
                .join(GuidedAction, GuidedAction.id == GuidedActionItem.action_id)
                .where(GuidedAction.type == guided_type.value, GuidedAction.user_id == user_id)
                .order_by(GuidedActionItem.id)
            )
            return list(rows.all())

    async def actions(self, guided_type: GuidedType, user_id: int) -> list[GuidedAction]:
        async with self.session_factory() as session:
            rows = await session.scalars(
                select(GuidedAction)
                .where(GuidedAction.type == guided_type.value, GuidedAction.user_id == user_id)
                .order_by(GuidedAction.id)
            )
            return list(rows.all())

    async def history_events(self, kind: ObjectKind, object_id: int) -> list[Any]:
        handle = self.env.client.get_workflow_handle(guided_workflow_id(kind, object_id))
        return [e async for e in handle.fetch_history_events()]

    async def status(self, kind: ObjectKind, object_id: int) -> WorkflowExecutionStatus | None:
        handle = self.env.client.get_workflow_handle(guided_workflow_id(kind, object_id))
        return (await handle.describe()).status


@pytest.fixture
async def guided(
    own_time_skipping_env: WorkflowEnvironment, guided_session_factory: SessionFactory
) -> AsyncIterator[Guided]:
    session_factory = guided_session_factory
    env = own_time_skipping_env
    queue = f"guided-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=guided_task_queue(queue),
        workflows=[GuidedObjectWorkflow],
        activities=[GuidedActivities(session_factory).evaluate_guided_object],
    ):
        yield Guided(env, Orchestrator(env.client, queue), session_factory)


def opened(items: list[GuidedActionItem]) -> list[GuidedActionItem]:
    return [i for i in items if i.ended_at is None]


class TestLogMeetingOutcome:
    async def test_a_meeting_that_ends_gets_its_action_an_hour_later_not_a_minute_before(
        self, guided: Guided
    ) -> None:
        """GA-15: "ended >= 1 hour ago" is a creation delay, kept by a durable timer."""
        user = await guided.user()
        end = await guided.now()
        meeting = await guided.meeting(user, end - timedelta(minutes=30), end)
        await guided.changed(ObjectKind.MEETING, meeting.id)

        await guided.env.sleep(timedelta(minutes=59))
        assert await guided.items(GuidedType.LOG_MEETING_OUTCOME, user.id) == []

        await guided.env.sleep(timedelta(minutes=2))
        items = await eventually(
            lambda: guided.items(GuidedType.LOG_MEETING_OUTCOME, user.id), bool
        )
        assert [(i.object, i.object_id, i.name) for i in items] == [("meeting", meeting.id, "Demo")]
        assert end + timedelta(hours=1) <= items[0].created_at < end + timedelta(minutes=61)
        assert items[0].expires_at == end + timedelta(days=7)

    async def test_setting_the_outcome_ends_the_action_and_cancels_its_timer(
        self, guided: Guided
    ) -> None:
        """GA-15 "any criterion fails, e.g. an outcome is set"; GA-2: the action ends with its
        last item. The meeting's follow-up is done, so nothing else keeps a timer."""
        user = await guided.user()
        now = await guided.now()
        contact = Contact(first_name="Ann", owner_id=user.id)
        await guided.add(contact)
        meeting = await guided.meeting(user, now - timedelta(hours=3), now - timedelta(hours=2))
        await guided.add(
            MeetingContact(meeting_id=meeting.id, contact_id=contact.id),
            Task(
                title="Send the deck",
                owner_id=user.id,
                contact_id=contact.id,
                status="completed",
                created_at=now - timedelta(minutes=90),
            ),
        )
        await guided.changed(ObjectKind.MEETING, meeting.id)
        items = await eventually(
            lambda: guided.items(GuidedType.LOG_MEETING_OUTCOME, user.id), bool
        )
        assert len(opened(items)) == 1

        await meetings.set_meeting_outcome(
            guided.session_factory,
            guided.orchestrator,
            user,
            meeting.id,
            MeetingOutcome.COMPLETED,
        )
        await guided.relay(ObjectKind.MEETING, meeting.id)
        items = await eventually(
            lambda: guided.items(GuidedType.LOG_MEETING_OUTCOME, user.id),
            lambda found: not opened(found),
        )
        assert [i.end_reason for i in items] == ["criteria_failed"]
        [action] = await guided.actions(GuidedType.LOG_MEETING_OUTCOME, user.id)
        assert action.ended_at is not None
        # Nothing is left to wait for: the workflow completed, its 7-day timer cancelled.
        await eventually(
            lambda: guided.status(ObjectKind.MEETING, meeting.id),
            lambda status: status == WorkflowExecutionStatus.COMPLETED,
        )
        events = await guided.history_events(ObjectKind.MEETING, meeting.id)
        kinds = [e.event_type for e in events]
        assert EventType.EVENT_TYPE_TIMER_STARTED in kinds
        assert EventType.EVENT_TYPE_TIMER_CANCELED in kinds
        assert EventType.EVENT_TYPE_TIMER_FIRED not in kinds


class TestGrouping:
    async def test_several_meetings_of_one_user_make_one_action_listing_them_all(
        self, guided: Guided
    ) -> None:
        """GA-3: every meeting needing an outcome becomes one "Log meeting outcome"."""
        user = await guided.user()
        now = await guided.now()
        first = await guided.meeting(user, now - timedelta(hours=3), now - timedelta(hours=2))
        second = await guided.meeting(user, now - timedelta(hours=5), now - timedelta(hours=4))
        await guided.changed(ObjectKind.MEETING, first.id)
        await guided.changed(ObjectKind.MEETING, second.id)

        items = await eventually(
            lambda: guided.items(GuidedType.LOG_MEETING_OUTCOME, user.id),
            lambda found: len(found) == 2,
        )
        assert sorted(i.object_id for i in items) == sorted([first.id, second.id])
        assert len({i.action_id for i in items}) == 1
        [action] = await guided.actions(GuidedType.LOG_MEETING_OUTCOME, user.id)
        assert action.category == "all" and action.ended_at is None
        # The action expires with its earliest item: the meeting that ended first.
        assert action.expires_at == second.end + timedelta(days=7)

    async def test_associations_are_the_meetings_at_creation(self, guided: Guided) -> None:
        """GA-4: later association changes are not applied to the item."""
        user = await guided.user()
        now = await guided.now()
        company = Company(name="Acme")
        await guided.add(company)
        ann = Contact(first_name="Ann", last_name="Lee", company_id=company.id)
        bob = Contact(first_name="Bob")
        await guided.add(ann, bob)
        meeting = await guided.meeting(
            user, now - timedelta(hours=3), now - timedelta(hours=2), company_id=company.id
        )
        await guided.add(MeetingContact(meeting_id=meeting.id, contact_id=ann.id))
        await guided.changed(ObjectKind.MEETING, meeting.id)
        [item] = await eventually(
            lambda: guided.items(GuidedType.LOG_MEETING_OUTCOME, user.id), bool
        )
        at_creation = {
            "contacts": [{"id": ann.id, "name": "Ann Lee"}],
            "companies": [{"id": company.id, "name": "Acme"}],
            "deals": [],
            "leads": [],
        }
        assert item.associations == at_creation

        await guided.add(MeetingContact(meeting_id=meeting.id, contact_id=bob.id))
        await guided.changed(ObjectKind.MEETING, meeting.id)
        # The change was evaluated (the follow-up item's evaluation saw it) without touching
        # the item's snapshot.
        await eventually(
            lambda: guided.history_events(ObjectKind.MEETING, meeting.id),
            lambda events: (
                sum(e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED for e in events) >= 2
            ),
        )
        [item] = await guided.items(GuidedType.LOG_MEETING_OUTCOME, user.id)
        assert item.ended_at is None and item.associations == at_creation


class TestNewlyAssignedLeads:
    async def test_the_action_expires_30_days_after_creation(self, guided: Guided) -> None:
        """GA-11: 30 days after creation the item expires, the action ends and nothing
        brings it straight back."""
        user = await guided.user()
        async with guided.session_factory() as session:
            first_stage = await session.scalar(
                select(Stage)
                .join(Pipeline, Pipeline.id == Stage.pipeline_id)
                .where(Pipeline.object == "lead", Pipeline.is_default.is_(True))
                .order_by(Stage.position)
                .limit(1)
            )
        assert first_stage is not None
        lead = Lead(
            name="Acme lead",
            pipeline_id=first_stage.pipeline_id,
            stage_id=first_stage.id,
            owner_id=user.id,
        )
        await guided.add(lead)
        created = await guided.now()
        await guided.changed(ObjectKind.LEAD, lead.id)
        [item] = await eventually(
            lambda: guided.items(GuidedType.NEWLY_ASSIGNED_LEADS, user.id), bool
        )
        assert item.expires_at is not None
        assert timedelta(days=30) <= item.expires_at - created < timedelta(days=30, minutes=1)

        await guided.env.sleep(timedelta(days=30, minutes=1))
        items = await eventually(
            lambda: guided.items(GuidedType.NEWLY_ASSIGNED_LEADS, user.id),
            lambda found: not opened(found),
        )
        assert [i.end_reason for i in items] == ["expired"]
        [action] = await guided.actions(GuidedType.NEWLY_ASSIGNED_LEADS, user.id)
        assert action.ended_at is not None and action.end_reason == "expired"


class TestCompleteItem:
    async def test_a_done_item_ends_its_action_and_does_not_come_back(self, guided: Guided) -> None:
        """GA-6 one-at-a-time completion: the last item done ends the action (GA-2); the
        re-evaluation it owes cancels the item's timer, and the meeting, still without an
        outcome, gets no new item."""
        user = await guided.user()
        now = await guided.now()
        meeting = await guided.meeting(user, now - timedelta(hours=3), now - timedelta(hours=2))
        await guided.changed(ObjectKind.MEETING, meeting.id)
        [item] = await eventually(
            lambda: guided.items(GuidedType.LOG_MEETING_OUTCOME, user.id), bool
        )
        someone_else = await guided.user()
        async with guided.session_factory() as session:
            assert not await guided_actions.complete_item(
                session, item.action_id, "meeting", meeting.id, someone_else.id
            )
        async with guided.session_factory() as session:
            assert await guided_actions.complete_item(
                session, item.action_id, "meeting", meeting.id, user.id
            )
        await guided.relay(ObjectKind.MEETING, meeting.id)
        await eventually(
            lambda: guided.history_events(ObjectKind.MEETING, meeting.id),
            lambda events: any(e.event_type == EventType.EVENT_TYPE_TIMER_CANCELED for e in events),
        )
        # The evaluation after the change has run: its local activity recorded after the cancel.
        events = await eventually(
            lambda: guided.history_events(ObjectKind.MEETING, meeting.id),
            lambda events: (
                sum(e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED for e in events) >= 2
            ),
        )
        assert sum(e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED for e in events) >= 2
        [done] = await guided.items(GuidedType.LOG_MEETING_OUTCOME, user.id)
        assert done.end_reason == "done" and done.done_at is not None
        [action] = await guided.actions(GuidedType.LOG_MEETING_OUTCOME, user.id)
        assert action.ended_at is not None and action.end_reason == "done"
