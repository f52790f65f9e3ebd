"""Lead-based guided actions on durable timers (GA-11, GA-20, GA-24): the lead's workflow over
real PostgreSQL on the time-skipping server. Changes go through the services and reach the
workflow as the outbox relay delivers them."""

from datetime import datetime

from sqlalchemy import update

from db.models import Lead, Stage
from domain.guided import GuidedType, ObjectKind
from services import leads
from tests.workflows.guided_stack import DAY, HOUR, MINUTE, GuidedStack, near

T = GuidedType
LEAD = ObjectKind.LEAD


async def expires_by_window(
    stack: GuidedStack, guided_type: GuidedType, lead_id: int, expires_at: datetime
) -> None:
    """Nothing happens until a minute before `expires_at`; at it the item expires and no new
    item follows."""
    await stack.skip(expires_at - MINUTE - await stack.now())
    assert stack.nothing_evaluated()
    [item] = await stack.items(guided_type, lead_id)
    assert item.ended_at is None
    await stack.skip(2 * MINUTE)
    assert near(await stack.evaluated(), expires_at)
    items = await stack.items(guided_type, lead_id)
    assert [i.end_reason for i in items] == ["expired"]


async def reassign(stack: GuidedStack, lead_id: int, owner_id: int, new_owner: int) -> None:
    async with stack.session_factory() as session:
        await leads.change_owner(
            session, stack.orchestrator, await stack.actor(owner_id), lead_id, new_owner
        )
    await stack.relay(LEAD, lead_id)


async def stage(stack: GuidedStack, position: int) -> Stage:
    """A stage of the default lead pipeline: 0 is the first (open) one."""
    return (await stack.stages("lead"))[position]


async def test_newly_assigned_lead_runs_out_its_30_days_and_does_not_return_ga_11(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    lead = await stack.lead(owner, await stage(stack, 0))

    created_at = await stack.watch(LEAD, lead.id)
    [item] = await stack.items(T.NEWLY_ASSIGNED_LEADS, lead.id)
    assert item.expires_at == created_at + 30 * DAY
    await expires_by_window(stack, T.NEWLY_ASSIGNED_LEADS, lead.id, created_at + 30 * DAY)
    await stack.finished(LEAD, lead.id)


async def test_newly_assigned_lead_not_in_the_first_stage_gets_none_ga_11(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    lead = await stack.lead(owner, await stage(stack, 1))
    await stack.watch(LEAD, lead.id)
    assert await stack.items(T.NEWLY_ASSIGNED_LEADS, lead.id) == []


async def test_newly_assigned_lead_ends_when_reassigned_and_when_the_owner_logs_activity_ga_11(
    stack: GuidedStack,
) -> None:
    owner, colleague = await stack.user(), await stack.user()
    lead = await stack.lead(owner, await stage(stack, 0))
    await stack.watch(LEAD, lead.id)

    await reassign(stack, lead.id, owner, colleague)
    first, second = await stack.items(T.NEWLY_ASSIGNED_LEADS, lead.id)
    assert (first.end_reason, second.ended_at) == ("reassigned", None)

    await stack.activity("note", await stack.now(), lead_id=lead.id, user_id=colleague)
    await stack.relay(LEAD, lead.id)
    items = await stack.items(T.NEWLY_ASSIGNED_LEADS, lead.id)
    assert [i.end_reason for i in items] == ["reassigned", "criteria_failed"]


async def replied_lead(stack: GuidedStack, owner: int, email: str = "ann@buyer.example") -> Lead:
    """A qualified lead (so neither GA-11 nor GA-24 reads it) whose contact at `email`
    replied an hour ago to its owner as primary recipient."""
    contact = await stack.contact(None, email=email)
    qualified = await stack.stage_of_kind("lead", "qualified")
    lead = await stack.lead(owner, qualified, contact_id=contact.id)
    await stack.activity(
        "email_reply",
        (await stack.now()) - HOUR,
        lead_id=lead.id,
        user_id=owner,
        details={"email": {"primary_recipient": (await stack.actor(owner)).email}},
    )
    return lead


async def test_lead_awaiting_reply_expires_14_days_after_creation_ga_20(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    lead = await replied_lead(stack, owner)

    created_at = await stack.watch(LEAD, lead.id)
    [item] = await stack.items(T.LEADS_AWAITING_REPLY, lead.id)
    assert item.expires_at == created_at + 14 * DAY
    await expires_by_window(stack, T.LEADS_AWAITING_REPLY, lead.id, created_at + 14 * DAY)
    await stack.finished(LEAD, lead.id)


async def test_lead_awaiting_reply_from_the_owners_domain_gets_none_ga_20(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    lead = await replied_lead(stack, owner, email="bob@leadpipe.example")
    await stack.watch(LEAD, lead.id)
    assert await stack.items(T.LEADS_AWAITING_REPLY, lead.id) == []


async def test_lead_awaiting_reply_ends_when_the_owner_emails_the_lead_ga_20(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    lead = await replied_lead(stack, owner)
    await stack.watch(LEAD, lead.id)

    await stack.activity("email_sent", await stack.now(), lead_id=lead.id, user_id=owner)
    await stack.relay(LEAD, lead.id)
    [item] = await stack.items(T.LEADS_AWAITING_REPLY, lead.id)
    assert item.end_reason == "criteria_failed"


async def test_lead_awaiting_reply_ends_when_reassigned_ga_20(stack: GuidedStack) -> None:
    owner, colleague = await stack.user(), await stack.user()
    lead = await replied_lead(stack, owner)
    await stack.watch(LEAD, lead.id)

    await reassign(stack, lead.id, owner, colleague)
    # The reply was to the first owner: nothing for the new one.
    [item] = await stack.items(T.LEADS_AWAITING_REPLY, lead.id)
    assert item.end_reason == "reassigned"


async def engaged_lead(stack: GuidedStack, owner: int) -> tuple[Lead, datetime]:
    """A lead in an open stage (not the first) that opened an email two days ago."""
    lead = await stack.lead(owner, await stage(stack, 1))
    engaged = (await stack.now()) - 2 * DAY
    await stack.activity("email_open", engaged, lead_id=lead.id, user_id=owner)
    return lead, engaged


async def test_recently_engaged_lead_runs_out_7_days_after_the_engagement_ga_24(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    lead, engaged = await engaged_lead(stack, owner)

    await stack.watch(LEAD, lead.id)
    [item] = await stack.items(T.RECENTLY_ENGAGED_LEADS, lead.id)
    assert item.expires_at == engaged + 7 * DAY
    await expires_by_window(stack, T.RECENTLY_ENGAGED_LEADS, lead.id, engaged + 7 * DAY)
    await stack.finished(LEAD, lead.id)


async def test_recently_engaged_lead_a_later_engagement_moves_the_window_ga_24(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    lead, engaged = await engaged_lead(stack, owner)
    await stack.watch(LEAD, lead.id)

    await stack.skip(DAY)
    again = await stack.now()
    await stack.activity("email_reply", again, lead_id=lead.id)
    await stack.relay(LEAD, lead.id)
    [item] = await stack.items(T.RECENTLY_ENGAGED_LEADS, lead.id)
    assert (item.ended_at, item.expires_at) == (None, again + 7 * DAY)
    # Past the first engagement's window the item goes on.
    await stack.skip(engaged + 7 * DAY + MINUTE - await stack.now())
    [item] = await stack.items(T.RECENTLY_ENGAGED_LEADS, lead.id)
    assert item.ended_at is None
    stack.forget_evaluations()
    await expires_by_window(stack, T.RECENTLY_ENGAGED_LEADS, lead.id, again + 7 * DAY)


async def test_recently_engaged_lead_ends_when_it_leaves_the_open_stages_ga_24(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    lead, _ = await engaged_lead(stack, owner)
    await stack.watch(LEAD, lead.id)

    qualified = await stack.stage_of_kind("lead", "qualified")
    async with stack.session_factory() as session, session.begin():
        await session.execute(update(Lead).where(Lead.id == lead.id).values(stage_id=qualified.id))
    await stack.changed(LEAD, lead.id)
    [item] = await stack.items(T.RECENTLY_ENGAGED_LEADS, lead.id)
    assert item.end_reason == "criteria_failed"
