"""The guided-action types (GA-10..GA-28): their keys, categories, the objects they list and
what their card says (GA-5, GA-6, GA-7)."""

from dataclasses import dataclass
from enum import StrEnum


class GuidedType(StrEnum):
    """The API's type keys, one per requirement."""

    NEWLY_ASSIGNED_CONTACTS = "newly_assigned_contacts"  # GA-10
    NEWLY_ASSIGNED_LEADS = "newly_assigned_leads"  # GA-11
    RE_ENGAGED_CONTACTS = "re_engaged_contacts"  # GA-12
    SEQUENCE_ACTIVITY = "sequence_activity"  # GA-13
    EMAIL_REPLIES = "email_replies"  # GA-14
    LOG_MEETING_OUTCOME = "log_meeting_outcome"  # GA-15
    MEETING_FOLLOW_UP = "meeting_follow_up"  # GA-16
    LOG_CALL_OUTCOME = "log_call_outcome"  # GA-17
    CONTACTS_AWAITING_REPLY = "contacts_awaiting_reply"  # GA-18
    REPLY_TO_EMAIL = "reply_to_email"  # GA-19
    LEADS_AWAITING_REPLY = "leads_awaiting_reply"  # GA-20
    PREPARE_FOR_MEETINGS = "prepare_for_meetings"  # GA-21
    HIGH_PRIORITY_TASKS_DUE_TODAY = "high_priority_tasks_due_today"  # GA-22
    TARGET_ACCOUNT_ACTIVITY = "target_account_activity"  # GA-23
    RECENTLY_ENGAGED_LEADS = "recently_engaged_leads"  # GA-24
    UPDATE_NEXT_STEPS = "update_next_steps"  # GA-25
    ADD_CONTACT_TO_DEAL = "add_contact_to_deal"  # GA-26
    INITIAL_OUTREACH_NEEDED = "initial_outreach_needed"  # GA-27
    BUYER_FOLLOW_UP = "buyer_follow_up"  # GA-28


class Category(StrEnum):
    """The list's filter (GA-5). Every action is in `all`; deal-based types are also in
    `closing`, contact- and lead-based ones in `prospecting`."""

    ALL = "all"
    CLOSING = "closing"
    PROSPECTING = "prospecting"


class ObjectKind(StrEnum):
    """The kind of record an action's items are."""

    CONTACT = "contact"
    LEAD = "lead"
    MEETING = "meeting"
    CALL = "call"
    TASK = "task"
    DEAL = "deal"


@dataclass(frozen=True)
class TypeInfo:
    # The list filter besides `all` (Category.ALL: in `all` only).
    category: Category
    # The kind of record its items are; evaluate() takes that kind's snapshot.
    object: ObjectKind
    # The card's title.
    title: str
    # The first link under the title, opening the queue of its items (GA-6).
    primary_link: str
    # Whether it has a second link to work through its records one by one (GA-7).
    has_record_list: bool
    # GA-4 (the * types): items keep the meeting's or call's contacts and companies as they
    # were at creation.
    snapshots_associations: bool

    def in_category(self, category: Category) -> bool:
        return category == Category.ALL or category == self.category


def _info(
    category: Category,
    obj: ObjectKind,
    title: str,
    primary_link: str,
    *,
    snapshots_associations: bool = False,
) -> TypeInfo:
    # Records with a page of their own (contacts, leads, deals) can be worked one by one;
    # meetings, calls and tasks are done in the queue itself.
    has_record_list = obj in (ObjectKind.CONTACT, ObjectKind.LEAD, ObjectKind.DEAL)
    return TypeInfo(category, obj, title, primary_link, has_record_list, snapshots_associations)


_P, _C, _A = Category.PROSPECTING, Category.CLOSING, Category.ALL
_CONTACT, _LEAD, _DEAL = ObjectKind.CONTACT, ObjectKind.LEAD, ObjectKind.DEAL
_MEETING, _CALL, _TASK = ObjectKind.MEETING, ObjectKind.CALL, ObjectKind.TASK

TYPES: dict[GuidedType, TypeInfo] = {
    GuidedType.NEWLY_ASSIGNED_CONTACTS: _info(
        _P, _CONTACT, "Newly assigned contacts", "Enroll new contacts in sequence"
    ),
    GuidedType.NEWLY_ASSIGNED_LEADS: _info(_P, _LEAD, "Newly assigned leads", "Start leads"),
    GuidedType.RE_ENGAGED_CONTACTS: _info(
        _P, _CONTACT, "Re-engaged contacts", "Reach out to contacts"
    ),
    GuidedType.SEQUENCE_ACTIVITY: _info(_P, _TASK, "Sequence activity", "Start tasks"),
    GuidedType.EMAIL_REPLIES: _info(_P, _CONTACT, "Email replies", "Follow up on replies"),
    GuidedType.LOG_MEETING_OUTCOME: _info(
        _A, _MEETING, "Log meeting outcome", "Log outcomes", snapshots_associations=True
    ),
    GuidedType.MEETING_FOLLOW_UP: _info(
        _A, _MEETING, "Meeting follow-up", "Start follow-ups", snapshots_associations=True
    ),
    GuidedType.LOG_CALL_OUTCOME: _info(
        _A, _CALL, "Log call outcome", "Log outcomes", snapshots_associations=True
    ),
    GuidedType.CONTACTS_AWAITING_REPLY: _info(
        _P, _CONTACT, "Contacts awaiting reply", "Reply to contacts"
    ),
    GuidedType.REPLY_TO_EMAIL: _info(_C, _CONTACT, "Reply to email", "Reply to emails"),
    GuidedType.LEADS_AWAITING_REPLY: _info(_P, _LEAD, "Awaiting reply", "Reply to leads"),
    GuidedType.PREPARE_FOR_MEETINGS: _info(
        _A,
        _MEETING,
        "Prepare for upcoming meetings",
        "Prepare for meetings",
        snapshots_associations=True,
    ),
    GuidedType.HIGH_PRIORITY_TASKS_DUE_TODAY: _info(
        _A, _TASK, "High-priority tasks due today", "Start tasks"
    ),
    GuidedType.TARGET_ACCOUNT_ACTIVITY: _info(
        _P, _CONTACT, "Target account activity", "Review contacts"
    ),
    GuidedType.RECENTLY_ENGAGED_LEADS: _info(
        _P, _LEAD, "Recently engaged leads", "Follow up on leads"
    ),
    GuidedType.UPDATE_NEXT_STEPS: _info(_C, _DEAL, "Update next steps", "Update deals"),
    GuidedType.ADD_CONTACT_TO_DEAL: _info(_C, _DEAL, "Add contact to deal", "Add contacts"),
    GuidedType.INITIAL_OUTREACH_NEEDED: _info(
        _C, _DEAL, "Initial outreach needed", "Start outreach"
    ),
    GuidedType.BUYER_FOLLOW_UP: _info(_C, _DEAL, "Buyer follow-up", "Follow up with buyers"),
}


def types_for(kind: ObjectKind) -> tuple[GuidedType, ...]:
    """The types whose items are records of `kind`, in requirement order: the types to
    evaluate when such a record (or a fact about it) changes."""
    return tuple(t for t, info in TYPES.items() if info.object == kind)
