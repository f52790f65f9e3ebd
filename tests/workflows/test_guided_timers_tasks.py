"""Task- and meeting-based guided actions on durable timers (GA-13, GA-16): the record's
workflow over real PostgreSQL on the time-skipping server. Changes go through the services and
reach the workflows as the outbox relay delivers them."""

from db.models import Meeting, MeetingContact, SalesSequence, Task
from domain.guided import GuidedType, ObjectKind
from services import tasks
from tests.workflows.guided_stack import DAY, HOUR, MINUTE, GuidedStack, near

T = GuidedType
TASK = ObjectKind.TASK
MEETING = ObjectKind.MEETING


async def test_sequence_task_has_no_window_and_ends_when_reassigned_or_completed_ga_13(
    stack: GuidedStack,
) -> None:
    owner, colleague = await stack.user(), await stack.user()
    sequence = SalesSequence(name=f"Outreach {owner}")
    await stack.add(sequence)
    task = Task(title="Step 2: call", owner_id=owner, sequence_id=sequence.id)
    plain = Task(title="Call back", owner_id=owner)
    await stack.add(task, plain)

    await stack.changed(TASK, plain.id)
    assert await stack.items(T.SEQUENCE_ACTIVITY, plain.id) == []
    await stack.watch(TASK, task.id)
    [item] = await stack.items(T.SEQUENCE_ACTIVITY, task.id)
    assert item.expires_at is None
    # No window: nothing to wait for, and 30 days on the item is still there.
    await stack.finished(TASK, task.id)
    await stack.skip(30 * DAY)
    assert [i.ended_at for i in await stack.items(T.SEQUENCE_ACTIVITY, task.id)] == [None]

    async with stack.session_factory() as session:
        await tasks.update_task(session, await stack.actor(owner), task.id, {"owner_id": colleague})
    await stack.relay(TASK, task.id)
    first, second = await stack.items(T.SEQUENCE_ACTIVITY, task.id)
    assert (first.end_reason, second.ended_at) == ("reassigned", None)

    async with stack.session_factory() as session:
        await tasks.complete_task(
            session, await stack.actor(colleague), task.id, now=await stack.now()
        )
    await stack.relay(TASK, task.id)
    items = await stack.items(T.SEQUENCE_ACTIVITY, task.id)
    assert [i.end_reason for i in items] == ["reassigned", "criteria_failed"]


async def test_meeting_follow_up_from_the_start_until_7_days_after_the_end_ga_16(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    start = (await stack.now()) + HOUR
    end = start + HOUR
    meeting = Meeting(owner_id=owner, title="Pitch", start=start, end=end)
    await stack.add(meeting)

    await stack.watch(MEETING, meeting.id)
    await stack.skip(start - MINUTE - await stack.now())
    assert stack.nothing_evaluated()
    assert await stack.items(T.MEETING_FOLLOW_UP, meeting.id) == []

    await stack.skip(2 * MINUTE)
    assert near(await stack.evaluated(), start)
    [item] = await stack.items(T.MEETING_FOLLOW_UP, meeting.id)
    assert item.expires_at == end + 7 * DAY

    # Preparing ends 10 minutes after the start, the outcome is due an hour after the end
    # (GA-21, GA-15): evaluations the follow-up sits through.
    await stack.skip(end + HOUR + MINUTE - await stack.now())
    stack.forget_evaluations()
    await stack.skip(end + 7 * DAY - MINUTE - await stack.now())
    assert stack.nothing_evaluated()
    [item] = await stack.items(T.MEETING_FOLLOW_UP, meeting.id)
    assert item.ended_at is None
    await stack.skip(2 * MINUTE)
    assert near(await stack.evaluated(), end + 7 * DAY)
    items = await stack.items(T.MEETING_FOLLOW_UP, meeting.id)
    assert [i.end_reason for i in items] == ["expired"]
    await stack.finished(MEETING, meeting.id)


async def test_meeting_follow_up_ends_when_its_follow_up_tasks_are_completed_ga_16(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    now = await stack.now()
    contact = await stack.contact(None)
    meeting = Meeting(owner_id=owner, title="Demo", start=now - 3 * HOUR, end=now - 2 * HOUR)
    await stack.add(meeting)
    await stack.add(MeetingContact(meeting_id=meeting.id, contact_id=contact.id))
    await stack.watch(MEETING, meeting.id)
    assert len(await stack.open_items(T.MEETING_FOLLOW_UP, meeting.id)) == 1

    # A follow-up task that no task type lists: its creation owes no evaluation of its own,
    # but the meeting's, which counts it (still open).
    async with stack.session_factory() as session:
        task = await tasks.create_task(
            session,
            await stack.actor(owner),
            {"title": "Send the deck", "owner_id": owner, "contact_id": contact.id},
        )
    assert await stack.owes_nothing(TASK, task.id)
    await stack.relay(MEETING, meeting.id)
    assert len(await stack.open_items(T.MEETING_FOLLOW_UP, meeting.id)) == 1

    async with stack.session_factory() as session:
        await tasks.complete_task(session, await stack.actor(owner), task.id, now=await stack.now())
    await stack.relay(TASK, task.id)
    await stack.relay(MEETING, meeting.id)
    [item] = await stack.items(T.MEETING_FOLLOW_UP, meeting.id)
    assert item.end_reason == "criteria_failed"


async def test_a_new_task_owes_its_evaluation_only_when_a_type_may_list_it_ga_22(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    now = await stack.now()
    async with stack.session_factory() as session:
        actor = await stack.actor(owner)
        plain = await tasks.create_task(session, actor, {"title": "Call back", "due_at": now})
        urgent = await tasks.create_task(
            session, actor, {"title": "Call now", "due_at": now, "priority": "high"}
        )
    assert await stack.owes_nothing(TASK, plain.id)
    await stack.relay(TASK, urgent.id)
    assert len(await stack.open_items(T.HIGH_PRIORITY_TASKS_DUE_TODAY, urgent.id)) == 1

    # Made high priority later, the plain task is evaluated like any changed task.
    async with stack.session_factory() as session:
        await tasks.update_task(session, actor, plain.id, {"priority": "high"})
    await stack.relay(TASK, plain.id)
    assert len(await stack.open_items(T.HIGH_PRIORITY_TASKS_DUE_TODAY, plain.id)) == 1
