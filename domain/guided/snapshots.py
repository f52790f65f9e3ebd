"""The facts about one record that the guided-action rules read: one snapshot per object kind.

Plain values only, loaded from the stored records when the record (or something about it)
changes; times are aware UTC datetimes. "Activity on X" means rows of `activities` naming X
(`activities.contact_id`, `lead_id` or `deal_id`); "inbound" and "the owner's" follow
domain/guided/facts.py. Each `last_*` is the newest such time, None when there is none.
"""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ContactSnapshot:
    """GA-10, GA-12, GA-14, GA-18, GA-19, GA-23."""

    contact_id: int
    # contacts.owner_id.
    owner_id: int | None
    # contacts.lifecycle_stage (domain.lifecycle.LifecycleStage values, or None).
    lifecycle_stage: str | None = None
    # facts.email_domain(contacts.email).
    email_domain: str | None = None
    # facts.email_domain(users.email) of the owner.
    owner_email_domain: str | None = None
    # A deal names the contact (deals.contact_id), in any stage.
    has_deal: bool = False
    # One of its leads (leads.contact_id) is in a stage of kind `open`.
    has_open_lead: bool = False
    # Its newest lead (by leads.created_at, id) is in a `disqualified` stage: when it entered
    # it (the newest lead_stage_history.at to that stage). None otherwise, or with no lead.
    latest_lead_disqualified_at: datetime | None = None
    # Its company (contacts.company_id) is a target account (companies.is_target_account).
    is_target_account: bool = False
    # Newest `email_sent` activity on it, by anyone.
    last_email_sent_at: datetime | None = None
    # Newest `email_sent` activity on it logged by its owner (activities.user_id = owner_id).
    last_owner_email_sent_at: datetime | None = None
    # Newest `email_reply` activity on it (the contact wrote; a reply is to a sent email).
    last_reply_at: datetime | None = None
    # Newest `email_reply` on it to its owner as primary recipient (facts.is_reply_to_user).
    last_reply_to_owner_at: datetime | None = None
    # Newest inbound activity on it (facts.is_inbound): its latest engagement.
    last_engaged_at: datetime | None = None
    # activities.user_id of its newest `email_reply`: the user it answered (GA-19).
    last_reply_user_id: int | None = None
    # Newest `email_sent` on it logged by last_reply_user_id (that user's answer, GA-19).
    reply_user_last_email_sent_at: datetime | None = None
    # Owners of the deals naming it (deals.contact_id) that are in a stage of kind `open`.
    open_deal_owner_ids: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class LeadSnapshot:
    """GA-11, GA-20, GA-24."""

    lead_id: int
    # leads.owner_id.
    owner_id: int | None
    # The kind of leads.stage_id (domain.stages.StageKind: open, qualified, disqualified).
    stage_kind: str
    # leads.stage_id has the lowest position among its pipeline's stages in use
    # (stages.removed_at IS NULL).
    is_first_stage: bool = False
    # facts.email_domain of the lead's contact's email (leads.contact_id -> contacts.email).
    email_domain: str | None = None
    # facts.email_domain(users.email) of the owner.
    owner_email_domain: str | None = None
    # Newest activity on it logged by its owner: activities.user_id = owner_id and not
    # facts.is_inbound (a reply to the owner is not the owner's doing).
    last_owner_activity_at: datetime | None = None
    # Newest `email_sent` activity on it logged by its owner.
    last_owner_email_sent_at: datetime | None = None
    # Newest `email_reply` on it to its owner as primary recipient (facts.is_reply_to_user).
    last_reply_to_owner_at: datetime | None = None
    # Newest inbound activity on it (facts.is_inbound).
    last_engaged_at: datetime | None = None


@dataclass(frozen=True)
class MeetingSnapshot:
    """GA-15, GA-16, GA-21."""

    meeting_id: int
    # meetings.owner_id.
    owner_id: int | None
    # meetings.start_at and meetings.end_at.
    start_at: datetime
    end_at: datetime
    # meetings.kind (domain.meetings.MeetingKind): a `busy` block is nobody's meeting.
    kind: str = "meeting"
    # meetings.outcome (domain.meetings.MeetingOutcome values, or None).
    outcome: str | None = None
    # Tasks of the owner (tasks.owner_id) naming one of the meeting's contacts
    # (meeting_contacts), its deal or its lead, created at or after the meeting's start.
    follow_up_tasks: int = 0
    # Of those, the ones still open (tasks.status = 'open').
    open_follow_up_tasks: int = 0


@dataclass(frozen=True)
class CallSnapshot:
    """GA-17."""

    call_id: int
    # calls.owner_id.
    owner_id: int | None
    # calls.started_at.
    started_at: datetime
    # calls.status as posted (e.g. `completed`), None when blank.
    status: str | None = None
    # calls.outcome, None when blank.
    outcome: str | None = None
    # calls.via_platform: made with built-in calling.
    via_platform: bool = False


@dataclass(frozen=True)
class TaskSnapshot:
    """GA-13, GA-22."""

    task_id: int
    # tasks.owner_id.
    owner_id: int | None
    # tasks.status (domain.tasks.TaskStatus) and tasks.completed_at.
    status: str = "open"
    completed_at: datetime | None = None
    # tasks.priority (domain.tasks.TaskPriority).
    priority: str = "none"
    # tasks.due_at.
    due_at: datetime | None = None
    # tasks.sequence_id: set on a sequence's task (GA-13).
    sequence_id: int | None = None
    # users.time_zone of the owner: "today" is the owner's day (GA-22, WS-3).
    owner_time_zone: str = "UTC"


@dataclass(frozen=True)
class DealSnapshot:
    """GA-25, GA-26, GA-27, GA-28."""

    deal_id: int
    # deals.owner_id.
    owner_id: int | None
    # deals.created_at.
    created_at: datetime
    # The kind of deals.stage_id (domain.stages.StageKind: open, won, lost).
    stage_kind: str
    # deals.stage_entered_at: when it last changed stage (its creation if never).
    stage_entered_at: datetime
    # deals.stage_id has the lowest position among its pipeline's stages in use.
    is_first_stage: bool = False
    # deals.contact_id: its contact, if any.
    contact_id: int | None = None
    # Newest end of its engagement: activities on it of facts.DEAL_ENGAGEMENT_TYPES, a
    # `meeting` one ending at its meeting's meetings.end_at (activities.meeting_id), the rest
    # at occurred_at. May lie ahead (a meeting booked for next week). None: no engagement.
    last_engagement_end_at: datetime | None = None
    # When deals.next_steps last changed; None when it never did.
    next_steps_changed_at: datetime | None = None
    # Newest `email_open` and `email_reply` activity of its contact (activities.contact_id =
    # deals.contact_id), on any record.
    contact_last_open_at: datetime | None = None
    contact_last_reply_at: datetime | None = None


Snapshot = (
    ContactSnapshot | LeadSnapshot | MeetingSnapshot | CallSnapshot | TaskSnapshot | DealSnapshot
)
