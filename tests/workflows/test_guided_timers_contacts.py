"""Contact-based guided actions on durable timers (GA-12, GA-14, GA-18, GA-19, GA-23): the
contact's workflow over real PostgreSQL on the time-skipping server. Changes go through the
services and reach the workflow as the outbox relay delivers them.

The contacts are customers unless a test says otherwise, so the 30 days of "Newly assigned
contacts" (GA-10) do not wake the record in between."""

from datetime import datetime

from db.models import Company, LeadStageChange
from domain.guided import GuidedType, ObjectKind
from services import contacts, deals
from services.contacts import ContactChanges
from tests.workflows.guided_stack import DAY, HOUR, MINUTE, GuidedStack, near

T = GuidedType
CONTACT = ObjectKind.CONTACT


async def expires_by_window(
    stack: GuidedStack, guided_type: GuidedType, contact_id: int, expires_at: datetime
) -> None:
    """Nothing happens until a minute before `expires_at`; at it the item expires, the
    workflow has nothing left to wait for, and no new item follows."""
    await stack.skip(expires_at - MINUTE - await stack.now())
    assert stack.nothing_evaluated()
    [item] = await stack.items(guided_type, contact_id)
    assert item.ended_at is None
    await stack.skip(2 * MINUTE)
    assert near(await stack.evaluated(), expires_at)
    items = await stack.items(guided_type, contact_id)
    assert [i.end_reason for i in items] == ["expired"]
    await stack.finished(CONTACT, contact_id)


async def reassign(stack: GuidedStack, contact_id: int, owner_id: int, new_owner: int) -> None:
    await contacts.update_contact(
        stack.session_factory,
        stack.orchestrator,
        await stack.actor(owner_id),
        contact_id,
        ContactChanges(values={"owner_id": new_owner}),
    )
    await stack.relay(CONTACT, contact_id)


async def re_engaged_contact(stack: GuidedStack, owner: int) -> tuple[int, datetime]:
    """A contact whose only lead was disqualified 10 days ago and who opened an email a day
    ago; returns it and when it engaged."""
    now = await stack.now()
    contact = await stack.contact(owner, lifecycle_stage="customer")
    disqualified = await stack.stage_of_kind("lead", "disqualified")
    lead = await stack.lead(owner, disqualified, contact_id=contact.id, created_at=now - 20 * DAY)
    await stack.add(
        LeadStageChange(
            lead_id=lead.id, at=now - 10 * DAY, to_stage_id=disqualified.id, cause="manual"
        )
    )
    engaged = now - DAY
    await stack.activity("email_open", engaged, contact_id=contact.id, user_id=owner)
    return contact.id, engaged


async def test_re_engaged_contact_runs_out_30_days_after_the_engagement_ga_12(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    contact_id, engaged = await re_engaged_contact(stack, owner)

    await stack.watch(CONTACT, contact_id)
    [item] = await stack.items(T.RE_ENGAGED_CONTACTS, contact_id)
    assert item.expires_at == engaged + 30 * DAY
    await expires_by_window(stack, T.RE_ENGAGED_CONTACTS, contact_id, engaged + 30 * DAY)


async def test_re_engaged_contact_ends_when_reassigned_and_when_a_lead_is_created_ga_12(
    stack: GuidedStack,
) -> None:
    owner, colleague = await stack.user(), await stack.user()
    contact_id, _ = await re_engaged_contact(stack, owner)
    await stack.watch(CONTACT, contact_id)

    await reassign(stack, contact_id, owner, colleague)
    first, second = await stack.items(T.RE_ENGAGED_CONTACTS, contact_id)
    assert first.end_reason == "reassigned"
    # Every criterion holds for the new owner (GA-1): the item is theirs now.
    assert second.ended_at is None

    # A new lead for the contact: its workflow evaluates it and owes the contact's (whose
    # facts read its leads), as the relay after the lead's creation would.
    first_stage = (await stack.stages("lead"))[0]
    now = await stack.now()
    lead = await stack.lead(colleague, first_stage, contact_id=contact_id, created_at=now)
    await stack.changed(ObjectKind.LEAD, lead.id)
    await stack.relay(CONTACT, contact_id)
    items = await stack.items(T.RE_ENGAGED_CONTACTS, contact_id)
    assert [i.end_reason for i in items] == ["reassigned", "criteria_failed"]


async def test_email_replies_expire_14_days_after_creation_and_do_not_return_ga_14(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    # The owner's own domain: no "Contacts awaiting reply" (GA-18) beside it.
    contact = await stack.contact(owner, email="ann@leadpipe.example")
    await stack.activity("email_reply", (await stack.now()) - HOUR, contact_id=contact.id)

    created_at = await stack.watch(CONTACT, contact.id)
    [item] = await stack.items(T.EMAIL_REPLIES, contact.id)
    assert (item.created_at, item.expires_at) == (created_at, created_at + 14 * DAY)
    await expires_by_window(stack, T.EMAIL_REPLIES, contact.id, created_at + 14 * DAY)


async def test_email_replies_end_when_reassigned_and_when_an_email_is_sent_ga_14(
    stack: GuidedStack,
) -> None:
    owner, colleague = await stack.user(), await stack.user()
    contact = await stack.contact(owner, email="ann@leadpipe.example")
    await stack.activity("email_reply", (await stack.now()) - HOUR, contact_id=contact.id)
    await stack.watch(CONTACT, contact.id)

    await reassign(stack, contact.id, owner, colleague)
    first, second = await stack.items(T.EMAIL_REPLIES, contact.id)
    assert (first.end_reason, second.ended_at) == ("reassigned", None)

    await stack.activity("email_sent", await stack.now(), contact_id=contact.id, user_id=colleague)
    await stack.relay(CONTACT, contact.id)
    items = await stack.items(T.EMAIL_REPLIES, contact.id)
    assert [i.end_reason for i in items] == ["reassigned", "criteria_failed"]


async def awaiting_reply(stack: GuidedStack, owner: int, email: str) -> int:
    """A contact at `email` that replied an hour ago to its owner as primary recipient."""
    contact = await stack.contact(owner, email=email)
    owner_email = (await stack.actor(owner)).email
    await stack.activity(
        "email_reply",
        (await stack.now()) - HOUR,
        contact_id=contact.id,
        user_id=owner,
        details={"email": {"primary_recipient": owner_email}},
    )
    return contact.id


async def test_contact_awaiting_reply_from_another_domain_expires_after_14_days_ga_18(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    contact_id = await awaiting_reply(stack, owner, "ann@buyer.example")

    created_at = await stack.watch(CONTACT, contact_id)
    [item] = await stack.items(T.CONTACTS_AWAITING_REPLY, contact_id)
    assert item.expires_at == created_at + 14 * DAY
    # "Email replies" (GA-14) runs out at the same instant.
    await expires_by_window(stack, T.CONTACTS_AWAITING_REPLY, contact_id, created_at + 14 * DAY)


async def test_contact_awaiting_reply_ends_when_the_owner_emails_or_it_is_reassigned_ga_18(
    stack: GuidedStack,
) -> None:
    owner, colleague = await stack.user(), await stack.user()
    same_domain = await awaiting_reply(stack, owner, "bob@leadpipe.example")
    await stack.watch(CONTACT, same_domain)
    assert await stack.items(T.CONTACTS_AWAITING_REPLY, same_domain) == []

    emailed = await awaiting_reply(stack, owner, "ann@buyer.example")
    await stack.changed(CONTACT, emailed)
    assert len(await stack.open_items(T.CONTACTS_AWAITING_REPLY, emailed)) == 1
    await stack.activity("email_sent", await stack.now(), contact_id=emailed, user_id=owner)
    await stack.relay(CONTACT, emailed)
    [item] = await stack.items(T.CONTACTS_AWAITING_REPLY, emailed)
    assert item.end_reason == "criteria_failed"

    reassigned = await awaiting_reply(stack, owner, "cy@buyer.example")
    await stack.changed(CONTACT, reassigned)
    await reassign(stack, reassigned, owner, colleague)
    # The reply was to the first owner, not the new one: nothing for the new owner.
    [item] = await stack.items(T.CONTACTS_AWAITING_REPLY, reassigned)
    assert item.end_reason == "reassigned"


async def reply_on_deal(stack: GuidedStack, owner: int) -> tuple[int, int]:
    """A contact nobody owns, on `owner`'s open deal, that replied to `owner` an hour ago;
    returns the contact and the deal."""
    contact = await stack.contact(None)
    deal = await stack.deal(owner, (await stack.stages("deal"))[0], contact_id=contact.id)
    await stack.activity(
        "email_reply", (await stack.now()) - HOUR, contact_id=contact.id, user_id=owner
    )
    return contact.id, deal.id


async def test_reply_to_email_expires_7_days_after_creation_ga_19(stack: GuidedStack) -> None:
    owner = await stack.user()
    contact_id, _ = await reply_on_deal(stack, owner)

    created_at = await stack.watch(CONTACT, contact_id)
    [item] = await stack.items(T.REPLY_TO_EMAIL, contact_id)
    assert item.expires_at == created_at + 7 * DAY
    await expires_by_window(stack, T.REPLY_TO_EMAIL, contact_id, created_at + 7 * DAY)


async def test_reply_to_email_ends_when_the_deal_closes_ga_19(stack: GuidedStack) -> None:
    owner = await stack.user()
    contact_id, deal_id = await reply_on_deal(stack, owner)
    await stack.watch(CONTACT, contact_id)
    assert len(await stack.open_items(T.REPLY_TO_EMAIL, contact_id)) == 1

    won = await stack.stage_of_kind("deal", "won")
    async with stack.session_factory() as session:
        await deals.update_deal(
            session, await stack.actor(owner), deal_id, {"stage_id": won.id}, now=await stack.now()
        )
    await stack.relay(CONTACT, contact_id)
    [item] = await stack.items(T.REPLY_TO_EMAIL, contact_id)
    assert item.end_reason == "criteria_failed"


async def test_reply_to_email_ends_when_the_user_replies_ga_19(stack: GuidedStack) -> None:
    owner = await stack.user()
    contact_id, _ = await reply_on_deal(stack, owner)
    await stack.watch(CONTACT, contact_id)

    await stack.activity("email_sent", await stack.now(), contact_id=contact_id, user_id=owner)
    await stack.relay(CONTACT, contact_id)
    [item] = await stack.items(T.REPLY_TO_EMAIL, contact_id)
    assert item.end_reason == "criteria_failed"


async def test_target_account_activity_runs_out_7_days_after_the_engagement_ga_23(
    stack: GuidedStack,
) -> None:
    owner = await stack.user()
    target, other = Company(name="Acme", is_target_account=True), Company(name="Globex")
    await stack.add(target, other)
    engaged = (await stack.now()) - DAY
    contact = await stack.contact(owner, lifecycle_stage="customer", company_id=target.id)
    elsewhere = await stack.contact(owner, lifecycle_stage="customer", company_id=other.id)
    for c in (contact, elsewhere):
        await stack.activity("email_open", engaged, contact_id=c.id)

    await stack.changed(CONTACT, elsewhere.id)
    assert await stack.items(T.TARGET_ACCOUNT_ACTIVITY, elsewhere.id) == []
    await stack.watch(CONTACT, contact.id)
    [item] = await stack.items(T.TARGET_ACCOUNT_ACTIVITY, contact.id)
    assert item.expires_at == engaged + 7 * DAY
    await expires_by_window(stack, T.TARGET_ACCOUNT_ACTIVITY, contact.id, engaged + 7 * DAY)
