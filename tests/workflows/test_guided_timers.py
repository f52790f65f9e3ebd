"""Guided actions on durable timers: the record's workflow over real PostgreSQL on the
time-skipping server. Each type is created exactly when its criteria hold (not a minute
before a creation delay ends) and ended by its window, the 30-day one in test time."""

from sqlalchemy import update

from db.models import Call, Contact, Deal, Meeting, Task
from domain.guided import GuidedType, ObjectKind
from domain.workspace import ScheduleRange, calendar_window, local_today
from tests.workflows.guided_stack import DAY, HOUR, MINUTE, GuidedStack, near
from workflows.guided_object import GuidedObjectWorkflow

T = GuidedType


async def test_log_meeting_outcome_waits_an_hour_after_the_end_and_expires_7_days_after_ga_15(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    ended = await stack.now()
    meeting = Meeting(owner_id=owner, title="Demo", start=ended - HOUR, end=ended)
    await stack.add(meeting)

    await stack.watch(ObjectKind.MEETING, meeting.id)
    assert await stack.items(T.LOG_MEETING_OUTCOME, meeting.id) == []
    await stack.skip(59 * MINUTE)
    assert stack.nothing_evaluated()
    assert await stack.items(T.LOG_MEETING_OUTCOME, meeting.id) == []

    await stack.skip(MINUTE)
    created_at = await stack.evaluated()
    assert near(created_at, ended + HOUR)
    [item] = await stack.items(T.LOG_MEETING_OUTCOME, meeting.id)
    assert (item.created_at, item.expires_at, item.ended_at) == (
        created_at,
        ended + 7 * DAY,
        None,
    )

    await stack.skip(ended + 7 * DAY - MINUTE - await stack.now())
    assert stack.nothing_evaluated()
    await stack.skip(2 * MINUTE)
    assert near(await stack.evaluated(), ended + 7 * DAY)
    [item] = await stack.items(T.LOG_MEETING_OUTCOME, meeting.id)
    assert item.end_reason == "expired"


async def test_setting_the_outcome_ends_the_item_before_its_window_ga_15_ws_12(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    ended = (await stack.now()) - 2 * HOUR
    meeting = Meeting(owner_id=owner, title="Demo", start=ended - HOUR, end=ended)
    await stack.add(meeting)
    await stack.watch(ObjectKind.MEETING, meeting.id)
    [item] = await stack.items(T.LOG_MEETING_OUTCOME, meeting.id)
    assert item.ended_at is None

    async with stack.session_factory() as session, session.begin():
        await session.execute(
            update(Meeting).where(Meeting.id == meeting.id).values(outcome="completed")
        )
    await stack.handles[0].signal(GuidedObjectWorkflow.changed)
    await stack.evaluated()
    [item] = await stack.items(T.LOG_MEETING_OUTCOME, meeting.id)
    assert item.end_reason == "criteria_failed"


async def test_log_call_outcome_not_a_minute_before_an_hour_after_the_start_ga_17(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    started = await stack.now()
    call = Call(owner_id=owner, started_at=started, status="completed")
    await stack.add(call)

    await stack.watch(ObjectKind.CALL, call.id)
    await stack.skip(59 * MINUTE)
    assert stack.nothing_evaluated()
    assert await stack.items(T.LOG_CALL_OUTCOME, call.id) == []
    await stack.skip(MINUTE)
    created_at = await stack.evaluated()
    assert near(created_at, started + HOUR)
    [item] = await stack.items(T.LOG_CALL_OUTCOME, call.id)
    assert item.expires_at == started + 7 * DAY


async def test_newly_assigned_contact_runs_out_its_30_days_and_does_not_return_ga_10(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    contact = Contact(email="ann@buyer.example", first_name="Ann", owner_id=owner)
    await stack.add(contact)

    created_at = await stack.watch(ObjectKind.CONTACT, contact.id)
    [item] = await stack.items(T.NEWLY_ASSIGNED_CONTACTS, contact.id)
    assert (item.created_at, item.expires_at) == (created_at, created_at + 30 * DAY)

    await stack.skip(30 * DAY - MINUTE - (await stack.now() - created_at))
    assert stack.nothing_evaluated()
    [item] = await stack.items(T.NEWLY_ASSIGNED_CONTACTS, contact.id)
    assert item.ended_at is None

    await stack.skip(2 * MINUTE)
    assert near(await stack.evaluated(), created_at + 30 * DAY)
    [item] = await stack.items(T.NEWLY_ASSIGNED_CONTACTS, contact.id)
    assert item.end_reason == "expired"
    # Nothing left to wait for: the workflow completes rather than looking again.
    await stack.handles[0].result()


async def test_prepare_for_meetings_ends_10_minutes_after_the_start_ga_21(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    start = (await stack.now()) + 2 * HOUR
    meeting = Meeting(owner_id=owner, title="Pitch", start=start, end=start + HOUR)
    await stack.add(meeting)

    await stack.watch(ObjectKind.MEETING, meeting.id)
    [item] = await stack.items(T.PREPARE_FOR_MEETINGS, meeting.id)
    assert item.expires_at == start + 10 * MINUTE

    # The start itself wakes the record for its follow-up (GA-16); preparing goes on.
    await stack.skip(start + MINUTE - await stack.now())
    assert near(await stack.evaluated(), start)
    [item] = await stack.items(T.PREPARE_FOR_MEETINGS, meeting.id)
    assert item.ended_at is None
    assert len(await stack.items(T.MEETING_FOLLOW_UP, meeting.id)) == 1

    await stack.skip(start + 9 * MINUTE - await stack.now())
    assert stack.nothing_evaluated()
    await stack.skip(2 * MINUTE)
    assert near(await stack.evaluated(), start + 10 * MINUTE)
    items = await stack.items(T.PREPARE_FOR_MEETINGS, meeting.id)
    assert [i.end_reason for i in items] == ["expired"]


async def test_high_priority_task_due_today_ends_at_the_owners_midnight_ga_22(
    stack: GuidedStack,
) -> None:
    zone = "America/New_York"
    owner = await stack.user(time_zone=zone)
    now = await stack.now()
    task = Task(title="Send the quote", priority="high", due_at=now, owner_id=owner)
    await stack.add(task)
    midnight = calendar_window(ScheduleRange.DAY, local_today(now, zone), zone).end

    await stack.watch(ObjectKind.TASK, task.id)
    [item] = await stack.items(T.HIGH_PRIORITY_TASKS_DUE_TODAY, task.id)
    assert item.expires_at == midnight

    await stack.skip(midnight - MINUTE - await stack.now())
    assert stack.nothing_evaluated()
    await stack.skip(2 * MINUTE)
    assert near(await stack.evaluated(), midnight)
    [item] = await stack.items(T.HIGH_PRIORITY_TASKS_DUE_TODAY, task.id)
    assert item.end_reason == "expired"


async def test_add_contact_to_deal_waits_until_the_deal_is_7_days_old_ga_26(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    pipeline_id, stage_id = await stack.first_deal_stage()
    created = (await stack.now()) - 7 * DAY + 30 * MINUTE
    deal = Deal(
        name="Acme renewal",
        pipeline_id=pipeline_id,
        stage_id=stage_id,
        owner_id=owner,
        created_at=created,
        stage_entered_at=created,
    )
    await stack.add(deal)

    await stack.watch(ObjectKind.DEAL, deal.id)
    await stack.skip(created + 7 * DAY - MINUTE - await stack.now())
    assert stack.nothing_evaluated()
    assert await stack.items(T.ADD_CONTACT_TO_DEAL, deal.id) == []

    await stack.skip(2 * MINUTE)
    created_at = await stack.evaluated()
    assert near(created_at, created + 7 * DAY)
    [item] = await stack.items(T.ADD_CONTACT_TO_DEAL, deal.id)
    assert item.expires_at == created_at + 7 * DAY

    await stack.skip(7 * DAY + MINUTE)
    await stack.evaluated()
    items = await stack.items(T.ADD_CONTACT_TO_DEAL, deal.id)
    assert [i.end_reason for i in items] == ["expired"]  # and no second item after it
