"""The meeting- and call-based types (GA-4's *): GA-15, GA-16, GA-17, GA-21."""

from datetime import datetime, timedelta

from domain.activities import COMPLETED_CALL_STATUSES
from domain.deals import NOT_HAPPENING
from domain.guided.snapshots import CallSnapshot, MeetingSnapshot
from domain.guided.types import GuidedType
from domain.guided.verdicts import Verdict, decide
from domain.meetings import MeetingKind, MeetingOutcome
from domain.workspace import UPCOMING_DAYS

# GA-15, GA-17: creation delays (GA-9), not expiries.
OUTCOME_DELAY = timedelta(hours=1)
# GA-15, GA-16: ended less than 7 days ago; GA-17: started less than 7 days ago.
RECENT = timedelta(days=7)
# GA-21: upcoming as the workspace counts it (the summary's next 7 days), until 10 minutes
# after the start.
UPCOMING = timedelta(days=UPCOMING_DAYS)
PREPARE_UNTIL = timedelta(minutes=10)

# GA-15: no outcome yet, or "Scheduled" (WS-12: any other outcome ends it).
UNLOGGED_OUTCOMES = frozenset({None, "", MeetingOutcome.SCHEDULED.value})


def _is_meeting(m: MeetingSnapshot) -> bool:
    # An out-of-office block sits on the calendar but is nobody's meeting.
    return m.kind != MeetingKind.BUSY


def log_meeting_outcome(
    m: MeetingSnapshot, now: datetime, item_created_at: datetime | None
) -> Verdict:
    """GA-15: the owner's meeting ended at least an hour ago and less than 7 days ago, with
    no outcome or "Scheduled"."""
    closes = m.end_at + RECENT
    return decide(
        m.owner_id,
        now,
        (_is_meeting(m), m.outcome in UNLOGGED_OUTCOMES),
        from_=(m.end_at + OUTCOME_DELAY,),
        until=(closes,),
        window_end=closes,
    )


def meeting_follow_up(
    m: MeetingSnapshot, now: datetime, item_created_at: datetime | None
) -> Verdict:
    """GA-16: the owner's meeting has started and ended less than 7 days ago; completing its
    follow-up tasks (there were some, and none is open) ends it."""
    followed_up = m.follow_up_tasks > 0 and m.open_follow_up_tasks == 0
    closes = m.end_at + RECENT
    return decide(
        m.owner_id,
        now,
        (_is_meeting(m), not followed_up),
        from_=(m.start_at,),
        until=(closes,),
        window_end=closes,
    )


def prepare_for_meetings(
    m: MeetingSnapshot, now: datetime, item_created_at: datetime | None
) -> Verdict:
    """GA-21 (ambiguous, read as): the owner's upcoming meeting, from 7 days before its start
    until 10 minutes after; a canceled meeting or a no-show is not coming up."""
    closes = m.start_at + PREPARE_UNTIL
    return decide(
        m.owner_id,
        now,
        (_is_meeting(m), m.outcome not in NOT_HAPPENING),
        from_=(m.start_at - UPCOMING,),
        until=(closes,),
        window_end=closes,
    )


def _call_completed(c: CallSnapshot) -> bool:
    status = (c.status or "").strip().lower()
    # Built-in calling always sets a status, so a blank one there is no finished call.
    return status == "completed" if c.via_platform else status in COMPLETED_CALL_STATUSES


def log_call_outcome(c: CallSnapshot, now: datetime, item_created_at: datetime | None) -> Verdict:
    """GA-17: the owner's call started at least an hour ago and less than 7 days ago, is
    completed (or, made outside built-in calling, has no status) and has no outcome."""
    closes = c.started_at + RECENT
    return decide(
        c.owner_id,
        now,
        (_call_completed(c), not (c.outcome or "").strip()),
        from_=(c.started_at + OUTCOME_DELAY,),
        until=(closes,),
        window_end=closes,
    )


RULES = {
    GuidedType.LOG_MEETING_OUTCOME: log_meeting_outcome,
    GuidedType.MEETING_FOLLOW_UP: meeting_follow_up,
    GuidedType.PREPARE_FOR_MEETINGS: prepare_for_meetings,
}
CALL_RULES = {GuidedType.LOG_CALL_OUTCOME: log_call_outcome}
