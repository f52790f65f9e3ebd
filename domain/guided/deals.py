"""The deal-based types: GA-25, GA-26, GA-27, GA-28."""

from datetime import datetime, timedelta

from domain.guided.snapshots import DealSnapshot
from domain.guided.types import GuidedType
from domain.guided.verdicts import Verdict, decide
from domain.stages import StageKind

# GA-25: an associated activity ended more than 24 hours ago (a creation delay).
NEXT_STEPS_DELAY = timedelta(hours=24)
# GA-26, GA-27: created more than 7 days ago ("concluded" in the source, read as created).
DEAL_AGE = timedelta(days=7)
# GA-26, GA-27, GA-28: more than 7 days after the item's creation.
DEAL_WINDOW = timedelta(days=7)
# GA-28: opened an email and had not replied 7 days later.
NO_REPLY_AFTER = timedelta(days=7)


def _is_open(d: DealSnapshot) -> bool:
    return d.stage_kind == StageKind.OPEN


def _same_stage_since(d: DealSnapshot, item_created_at: datetime | None) -> bool:
    """The deal has not changed stage since the item was created."""
    return item_created_at is None or d.stage_entered_at <= item_created_at


def update_next_steps(d: DealSnapshot, now: datetime, item_created_at: datetime | None) -> Verdict:
    """GA-25: the owner's open deal whose latest engagement ended more than 24 hours ago, with
    neither its stage nor its next steps changed since it ended (either change ends it, and
    it comes back only after a later engagement); no window."""
    ended = d.last_engagement_end_at
    return decide(
        d.owner_id,
        now,
        (
            _is_open(d),
            ended is not None and d.stage_entered_at <= ended,
            d.next_steps_changed_at is None
            or (ended is not None and d.next_steps_changed_at < ended),
            _same_stage_since(d, item_created_at),
        ),
        from_=(ended + NEXT_STEPS_DELAY if ended is not None else None,),
    )


def add_contact_to_deal(
    d: DealSnapshot, now: datetime, item_created_at: datetime | None
) -> Verdict:
    """GA-26: the owner's open deal, created more than 7 days ago, with no contact; a stage
    change ends it, as do 7 days after creation."""
    return decide(
        d.owner_id,
        now,
        (_is_open(d), d.contact_id is None, _same_stage_since(d, item_created_at)),
        from_=(d.created_at + DEAL_AGE,),
        item_window=DEAL_WINDOW,
        item_created_at=item_created_at,
    )


def initial_outreach_needed(
    d: DealSnapshot, now: datetime, item_created_at: datetime | None
) -> Verdict:
    """GA-27: the owner's open deal in its first stage, created more than 7 days ago, with no
    engagement; a stage change ends it, as do 7 days after creation."""
    return decide(
        d.owner_id,
        now,
        (
            _is_open(d),
            d.is_first_stage,
            d.last_engagement_end_at is None,
            _same_stage_since(d, item_created_at),
        ),
        from_=(d.created_at + DEAL_AGE,),
        item_window=DEAL_WINDOW,
        item_created_at=item_created_at,
    )


def buyer_follow_up(d: DealSnapshot, now: datetime, item_created_at: datetime | None) -> Verdict:
    """GA-28: the owner's open deal whose contact opened an email and had not replied 7 days
    later; the contact's reply ends it, as do 7 days after creation."""
    opened = d.contact_last_open_at
    replied = d.contact_last_reply_at
    return decide(
        d.owner_id,
        now,
        (
            _is_open(d),
            d.contact_id is not None and opened is not None,
            replied is None or (opened is not None and replied < opened),
        ),
        from_=(opened + NO_REPLY_AFTER if opened is not None else None,),
        item_window=DEAL_WINDOW,
        item_created_at=item_created_at,
    )


RULES = {
    GuidedType.UPDATE_NEXT_STEPS: update_next_steps,
    GuidedType.ADD_CONTACT_TO_DEAL: add_contact_to_deal,
    GuidedType.INITIAL_OUTREACH_NEEDED: initial_outreach_needed,
    GuidedType.BUYER_FOLLOW_UP: buyer_follow_up,
}
