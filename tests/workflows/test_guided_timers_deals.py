"""Deal-based guided actions on durable timers (GA-25, GA-27, GA-28): the deal's workflow over
real PostgreSQL on the time-skipping server. Changes go through the services and reach the
workflow as the outbox relay delivers them.

Deals name a contact unless a test says otherwise, so "Add contact to deal" (GA-26) does not
wake the record in between."""

from typing import Any

from db.models import Deal
from domain.guided import GuidedType, ObjectKind
from services import deals
from tests.workflows.guided_stack import DAY, HOUR, MINUTE, GuidedStack, near

T = GuidedType
DEAL = ObjectKind.DEAL


async def deal_with_contact(stack: GuidedStack, owner: int, position: int, **fields: Any) -> Deal:
    """An open deal of `owner` in the default pipeline's stage at `position`, naming a contact
    nobody owns."""
    contact = await stack.contact(None)
    stage = (await stack.stages("deal"))[position]
    return await stack.deal(owner, stage, contact_id=contact.id, **fields)


async def change(stack: GuidedStack, owner: int, deal_id: int, values: dict[str, Any]) -> None:
    """The deal's update through the service, at the test's clock, and its relayed signal."""
    async with stack.session_factory() as session:
        await deals.update_deal(
            session, await stack.actor(owner), deal_id, values, now=await stack.now()
        )
    await stack.relay(DEAL, deal_id)


async def test_update_next_steps_a_day_after_the_engagement_not_a_minute_before_ga_25(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    deal = await deal_with_contact(stack, owner, 1, created_at=(await stack.now()) - 3 * DAY)
    ended = (await stack.now()) - 23 * HOUR
    await stack.activity("note", ended, deal_id=deal.id, user_id=owner)

    await stack.watch(DEAL, deal.id)
    await stack.skip(ended + DAY - MINUTE - await stack.now())
    assert stack.nothing_evaluated()
    assert await stack.items(T.UPDATE_NEXT_STEPS, deal.id) == []

    await stack.skip(2 * MINUTE)
    assert near(await stack.evaluated(), ended + DAY)
    [item] = await stack.items(T.UPDATE_NEXT_STEPS, deal.id)
    assert item.expires_at is None
    # No window: nothing is left to wait for, and 30 days on the item is still there.
    await stack.finished(DEAL, deal.id)
    await stack.skip(30 * DAY)
    assert [i.ended_at for i in await stack.items(T.UPDATE_NEXT_STEPS, deal.id)] == [None]

    await change(stack, owner, deal.id, {"next_steps": "Send the pricing"})
    [item] = await stack.items(T.UPDATE_NEXT_STEPS, deal.id)
    assert item.end_reason == "criteria_failed"


async def test_update_next_steps_ends_when_the_deal_changes_stage_ga_25(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    deal = await deal_with_contact(stack, owner, 1, created_at=(await stack.now()) - 3 * DAY)
    await stack.activity("call", (await stack.now()) - 2 * DAY, deal_id=deal.id, user_id=owner)
    await stack.watch(DEAL, deal.id)
    assert len(await stack.open_items(T.UPDATE_NEXT_STEPS, deal.id)) == 1

    await change(stack, owner, deal.id, {"stage_id": (await stack.stages("deal"))[2].id})
    [item] = await stack.items(T.UPDATE_NEXT_STEPS, deal.id)
    assert item.end_reason == "criteria_failed"


async def test_update_next_steps_ends_when_the_deal_is_closed_ga_25(stack: GuidedStack) -> None:
    owner = await stack.user()
    deal = await deal_with_contact(stack, owner, 1, created_at=(await stack.now()) - 3 * DAY)
    await stack.activity("call", (await stack.now()) - 2 * DAY, deal_id=deal.id, user_id=owner)
    await stack.watch(DEAL, deal.id)
    assert len(await stack.open_items(T.UPDATE_NEXT_STEPS, deal.id)) == 1

    lost = await stack.stage_of_kind("deal", "lost")
    await change(stack, owner, deal.id, {"stage_id": lost.id})
    [item] = await stack.items(T.UPDATE_NEXT_STEPS, deal.id)
    assert item.end_reason == "criteria_failed"


async def test_initial_outreach_when_the_deal_is_7_days_old_then_for_7_days_ga_27(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    created = (await stack.now()) - 7 * DAY + 30 * MINUTE
    deal = await deal_with_contact(stack, owner, 0, created_at=created)

    await stack.watch(DEAL, deal.id)
    await stack.skip(created + 7 * DAY - MINUTE - await stack.now())
    assert stack.nothing_evaluated()
    assert await stack.items(T.INITIAL_OUTREACH_NEEDED, deal.id) == []

    await stack.skip(2 * MINUTE)
    created_at = await stack.evaluated()
    assert near(created_at, created + 7 * DAY)
    [item] = await stack.items(T.INITIAL_OUTREACH_NEEDED, deal.id)
    assert item.expires_at == created_at + 7 * DAY

    await stack.skip(7 * DAY - MINUTE)
    assert stack.nothing_evaluated()
    await stack.skip(2 * MINUTE)
    assert near(await stack.evaluated(), created_at + 7 * DAY)
    items = await stack.items(T.INITIAL_OUTREACH_NEEDED, deal.id)
    assert [i.end_reason for i in items] == ["expired"]  # and no second item after it
    await stack.finished(DEAL, deal.id)


async def test_initial_outreach_ends_when_an_engagement_is_associated_ga_27(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    deal = await deal_with_contact(stack, owner, 0, created_at=(await stack.now()) - 8 * DAY)
    await stack.watch(DEAL, deal.id)
    assert len(await stack.open_items(T.INITIAL_OUTREACH_NEEDED, deal.id)) == 1

    await stack.activity("email_sent", await stack.now(), deal_id=deal.id, user_id=owner)
    await stack.relay(DEAL, deal.id)
    [item] = await stack.items(T.INITIAL_OUTREACH_NEEDED, deal.id)
    assert item.end_reason == "criteria_failed"


async def test_initial_outreach_ends_when_the_deal_changes_stage_or_closes_ga_27(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    moved = await deal_with_contact(stack, owner, 0, created_at=(await stack.now()) - 8 * DAY)
    won = await deal_with_contact(stack, owner, 0, created_at=(await stack.now()) - 8 * DAY)
    for deal in (moved, won):
        await stack.changed(DEAL, deal.id)
        assert len(await stack.open_items(T.INITIAL_OUTREACH_NEEDED, deal.id)) == 1

    await change(stack, owner, moved.id, {"stage_id": (await stack.stages("deal"))[1].id})
    await change(stack, owner, won.id, {"stage_id": (await stack.stage_of_kind("deal", "won")).id})
    for deal in (moved, won):
        [item] = await stack.items(T.INITIAL_OUTREACH_NEEDED, deal.id)
        assert item.end_reason == "criteria_failed"


async def opened_email(stack: GuidedStack, owner: int, hours_ago: float) -> Deal:
    """A deal past its first stage (so no GA-27) whose contact opened an email `hours_ago`."""
    deal = await deal_with_contact(stack, owner, 1)
    opened = (await stack.now()) - hours_ago * HOUR
    await stack.activity("email_open", opened, contact_id=deal.contact_id)
    return deal


async def test_buyer_follow_up_7_days_after_the_open_not_a_minute_before_ga_28(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    opened = (await stack.now()) - 7 * DAY + 30 * MINUTE
    deal = await deal_with_contact(stack, owner, 1)
    await stack.activity("email_open", opened, contact_id=deal.contact_id)

    await stack.watch(DEAL, deal.id)
    await stack.skip(opened + 7 * DAY - MINUTE - await stack.now())
    assert stack.nothing_evaluated()
    assert await stack.items(T.BUYER_FOLLOW_UP, deal.id) == []

    await stack.skip(2 * MINUTE)
    created_at = await stack.evaluated()
    assert near(created_at, opened + 7 * DAY)
    [item] = await stack.items(T.BUYER_FOLLOW_UP, deal.id)
    assert item.expires_at == created_at + 7 * DAY

    # Open to the last minute of its window (the deal's other types may wake it meanwhile).
    await stack.skip(7 * DAY - MINUTE)
    [item] = await stack.items(T.BUYER_FOLLOW_UP, deal.id)
    assert item.ended_at is None
    stack.forget_evaluations()
    await stack.skip(2 * MINUTE)
    assert near(await stack.evaluated(), created_at + 7 * DAY)
    items = await stack.items(T.BUYER_FOLLOW_UP, deal.id)
    assert [i.end_reason for i in items] == ["expired"]
    await stack.finished(DEAL, deal.id)


async def test_buyer_follow_up_ends_when_that_contact_replies_ga_28(stack: GuidedStack) -> None:
    owner = await stack.user()
    deal = await opened_email(stack, owner, hours_ago=8 * 24)
    await stack.watch(DEAL, deal.id)
    assert len(await stack.open_items(T.BUYER_FOLLOW_UP, deal.id)) == 1

    # The reply names only the contact: the contact's evaluation owes its open deals theirs.
    await stack.activity("email_reply", await stack.now(), contact_id=deal.contact_id)
    assert deal.contact_id is not None
    await stack.relay(ObjectKind.CONTACT, deal.contact_id)
    await stack.relay(DEAL, deal.id)
    [item] = await stack.items(T.BUYER_FOLLOW_UP, deal.id)
    assert item.end_reason == "criteria_failed"
