"""The lead-based types: GA-11, GA-20, GA-24."""

from datetime import datetime, timedelta

from domain.guided.facts import same_domain
from domain.guided.snapshots import LeadSnapshot
from domain.guided.types import GuidedType
from domain.guided.verdicts import Verdict, decide
from domain.stages import StageKind

NEWLY_ASSIGNED_WINDOW = timedelta(days=30)  # GA-11: 30 days after creation
AWAITING_REPLY_WINDOW = timedelta(days=14)  # GA-20: created more than 14 days ago
RECENTLY_ENGAGED_WINDOW = timedelta(days=7)  # GA-24: more than 7 days since the engagement


def newly_assigned_leads(
    lead: LeadSnapshot, now: datetime, item_created_at: datetime | None
) -> Verdict:
    """GA-11: a lead with an owner, in its pipeline's first stage, that the owner has not
    worked yet (derived: any activity the owner logs on it ends it, so one already logged
    keeps it from being created); 30 days after creation."""
    return decide(
        lead.owner_id,
        now,
        (lead.is_first_stage, lead.last_owner_activity_at is None),
        item_window=NEWLY_ASSIGNED_WINDOW,
        item_created_at=item_created_at,
    )


def leads_awaiting_reply(
    lead: LeadSnapshot, now: datetime, item_created_at: datetime | None
) -> Verdict:
    """GA-20: the lead replied to its owner (the primary recipient) from another domain and
    the owner has not emailed it since; 14 days after creation."""
    reply = lead.last_reply_to_owner_at
    sent = lead.last_owner_email_sent_at
    return decide(
        lead.owner_id,
        now,
        (
            reply is not None,
            not same_domain(lead.email_domain, lead.owner_email_domain),
            sent is None or (reply is not None and sent < reply),
            sent is None or item_created_at is None or sent < item_created_at,
        ),
        item_window=AWAITING_REPLY_WINDOW,
        item_created_at=item_created_at,
    )


def recently_engaged_leads(
    lead: LeadSnapshot, now: datetime, item_created_at: datetime | None
) -> Verdict:
    """GA-24: the owner's lead in an open stage engaged within the last 7 days."""
    engaged = lead.last_engaged_at
    ends = engaged + RECENTLY_ENGAGED_WINDOW if engaged is not None else None
    return decide(
        lead.owner_id,
        now,
        (lead.stage_kind == StageKind.OPEN,),
        until=(ends,),
        window_end=ends,
    )


RULES = {
    GuidedType.NEWLY_ASSIGNED_LEADS: newly_assigned_leads,
    GuidedType.LEADS_AWAITING_REPLY: leads_awaiting_reply,
    GuidedType.RECENTLY_ENGAGED_LEADS: recently_engaged_leads,
}
