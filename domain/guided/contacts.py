"""The contact-based types: GA-10, GA-12, GA-14, GA-18, GA-19, GA-23."""

from datetime import datetime, timedelta

from domain.guided.facts import same_domain
from domain.guided.snapshots import ContactSnapshot
from domain.guided.types import GuidedType
from domain.guided.verdicts import Verdict, decide
from domain.lifecycle import LifecycleStage

# GA-10: the final lifecycle stages; lifecycle stages are not customisable here, so these
# are the account's own.
FINAL_LIFECYCLE_STAGES = frozenset({LifecycleStage.CUSTOMER.value, LifecycleStage.EVANGELIST.value})

NEWLY_ASSIGNED_WINDOW = timedelta(days=30)  # GA-10: 30 days after creation
RE_ENGAGED_WINDOW = timedelta(days=30)  # GA-12: more than 30 days since re-engagement
EMAIL_REPLIES_WINDOW = timedelta(days=14)  # GA-14: 14 days after creation
AWAITING_REPLY_WINDOW = timedelta(days=14)  # GA-18: created more than 14 days ago
REPLY_TO_EMAIL_WINDOW = timedelta(days=7)  # GA-19: more than 7 days after creation
TARGET_ACCOUNT_WINDOW = timedelta(days=7)  # GA-23: more than 7 days since the engagement


def _before(earlier: datetime | None, later: datetime | None) -> bool:
    """`earlier` is none at all, or strictly before `later`."""
    return earlier is None or (later is not None and earlier < later)


def _not_since(at: datetime | None, item_created_at: datetime | None) -> bool:
    """Nothing happened at or after the item's creation (always, with no item yet)."""
    return at is None or item_created_at is None or at < item_created_at


def newly_assigned_contacts(
    c: ContactSnapshot, now: datetime, item_created_at: datetime | None
) -> Verdict:
    """GA-10: the owner's contact, not yet a customer, with no deal, no tracked email from the
    owner and no email from the contact; any of these failing ends it, as do 30 days."""
    return decide(
        c.owner_id,
        now,
        (
            c.lifecycle_stage not in FINAL_LIFECYCLE_STAGES,
            not c.has_deal,
            c.last_owner_email_sent_at is None,
            c.last_reply_at is None,
        ),
        item_window=NEWLY_ASSIGNED_WINDOW,
        item_created_at=item_created_at,
    )


def re_engaged_contacts(
    c: ContactSnapshot, now: datetime, item_created_at: datetime | None
) -> Verdict:
    """GA-12: the owner's contact with no open lead, whose newest lead is disqualified and who
    engaged after that within the last 30 days. A lead created for it ends it (it is open, or
    at least no longer the disqualified one)."""
    disqualified = c.latest_lead_disqualified_at
    engaged = c.last_engaged_at
    re_engaged = disqualified is not None and engaged is not None and engaged > disqualified
    ends = engaged + RE_ENGAGED_WINDOW if re_engaged and engaged is not None else None
    return decide(
        c.owner_id,
        now,
        (not c.has_open_lead, re_engaged),
        until=(ends,),
        window_end=ends,
    )


def email_replies(c: ContactSnapshot, now: datetime, item_created_at: datetime | None) -> Verdict:
    """GA-14: the owner's contact replied, and no email went to it since (an email sent after
    the item's creation ends it); 14 days after creation."""
    return decide(
        c.owner_id,
        now,
        (
            c.last_reply_at is not None,
            _before(c.last_email_sent_at, c.last_reply_at),
            _not_since(c.last_email_sent_at, item_created_at),
        ),
        item_window=EMAIL_REPLIES_WINDOW,
        item_created_at=item_created_at,
    )


def contacts_awaiting_reply(
    c: ContactSnapshot, now: datetime, item_created_at: datetime | None
) -> Verdict:
    """GA-18: a contact with no open lead replied to its owner (the primary recipient) from
    another domain, and the owner has not emailed it since; 14 days after creation."""
    return decide(
        c.owner_id,
        now,
        (
            not c.has_open_lead,
            c.last_reply_to_owner_at is not None,
            not same_domain(c.email_domain, c.owner_email_domain),
            _before(c.last_owner_email_sent_at, c.last_reply_to_owner_at),
            _not_since(c.last_owner_email_sent_at, item_created_at),
        ),
        item_window=AWAITING_REPLY_WINDOW,
        item_created_at=item_created_at,
    )


def reply_to_email(c: ContactSnapshot, now: datetime, item_created_at: datetime | None) -> Verdict:
    """GA-19: for the user the contact last replied to, when the contact is on one of that
    user's open deals and the user has not answered; the deal closing or the user's reply ends
    it, as do 7 days after creation."""
    user_id = c.last_reply_user_id
    return decide(
        user_id,
        now,
        (
            user_id is not None and user_id in c.open_deal_owner_ids,
            c.last_reply_at is not None,
            _before(c.reply_user_last_email_sent_at, c.last_reply_at),
            _not_since(c.reply_user_last_email_sent_at, item_created_at),
        ),
        item_window=REPLY_TO_EMAIL_WINDOW,
        item_created_at=item_created_at,
    )


def target_account_activity(
    c: ContactSnapshot, now: datetime, item_created_at: datetime | None
) -> Verdict:
    """GA-23: the owner's contact at a target-account company engaged (any inbound activity)
    within the last 7 days."""
    engaged = c.last_engaged_at
    ends = engaged + TARGET_ACCOUNT_WINDOW if engaged is not None else None
    return decide(
        c.owner_id,
        now,
        (c.is_target_account,),
        until=(ends,),
        window_end=ends,
    )


RULES = {
    GuidedType.NEWLY_ASSIGNED_CONTACTS: newly_assigned_contacts,
    GuidedType.RE_ENGAGED_CONTACTS: re_engaged_contacts,
    GuidedType.EMAIL_REPLIES: email_replies,
    GuidedType.CONTACTS_AWAITING_REPLY: contacts_awaiting_reply,
    GuidedType.REPLY_TO_EMAIL: reply_to_email,
    GuidedType.TARGET_ACCOUNT_ACTIVITY: target_account_activity,
}
