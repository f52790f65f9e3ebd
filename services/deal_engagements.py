"""A deal's engagements and follow-up as the caller may see them (PERM-7): its newest
meetings, notes, emails and calls, and the next meeting or task scheduled on it. A deal's
overview and its insights read them.
"""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Activity, Call, Deal, Meeting, User
from db.repositories import deals as deals_repo
from db.repositories import insights as insights_repo
from domain.deal_risks import FollowUp
from domain.engagements import ENGAGEMENT_TYPES, Engagement, EngagementType
from services import visibility


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def engagement_of(activity: Activity, meeting: Meeting | None, call: Call | None) -> Engagement:
    """An activity as insights read it, with its meeting's or call's current state."""
    kind = EngagementType(activity.type)
    details = activity.details or {}
    subject = body = outcome = status = None
    start = None
    booked = False
    if kind in (EngagementType.EMAIL_SENT, EngagementType.EMAIL_REPLY):
        email = details.get("email") or {}
        subject, body = _text(email.get("subject")), _text(email.get("body"))
    elif kind == EngagementType.NOTE:
        body = _text((details.get("note") or {}).get("body"))
    elif kind == EngagementType.MEETING and meeting is not None:
        subject, body, outcome = meeting.title, meeting.notes, meeting.outcome
        start, booked = meeting.start, meeting.booked_by_contact
    elif kind == EngagementType.CALL and call is not None:
        outcome, status = call.outcome, call.status
    return Engagement(
        activity_id=activity.id,
        type=kind,
        occurred_at=activity.occurred_at,
        user_id=activity.user_id,
        subject=subject,
        body=body,
        outcome=outcome,
        status=status,
        start=start,
        booked_by_contact=booked,
    )


async def visible_engagements(
    session: AsyncSession, actor: User, deal: Deal, most: int
) -> list[Engagement]:
    """The deal's newest meetings, notes, emails and calls the caller may see, at most `most`,
    newest first: on the deal, or on its contact without a deal. A meeting or call with
    several activities (made, then its outcome set) counts once, as its newest; busy blocks
    are nobody's engagement."""
    rows = await insights_repo.deal_engagements(
        session,
        deal_id=deal.id,
        contact_id=deal.contact_id,
        types=ENGAGEMENT_TYPES,
        logged_by=visibility.activities_logged_by(actor),
        # Room for the repeats that are dropped.
        limit=2 * most,
    )
    seen: set[tuple[str, int]] = set()
    found: list[Engagement] = []
    for activity, meeting, call in rows:
        if meeting is not None and meeting.kind == "busy":
            continue
        record = (
            ("meeting", activity.meeting_id)
            if activity.meeting_id is not None
            else ("call", activity.call_id)
            if activity.call_id is not None
            else None
        )
        if record is not None:
            if record in seen:
                continue
            seen.add(record)
        found.append(engagement_of(activity, meeting, call))
        if len(found) == most:
            break
    return found


async def follow_up(
    session: AsyncSession, actor: User, deal: Deal, now: datetime
) -> FollowUp | None:
    """The next thing scheduled on the deal that the caller may see: the earlier of its next
    future meeting and its first open task (by due time; a task without one comes after a
    meeting)."""
    owner = visibility.activities_logged_by(actor)
    meeting = await deals_repo.next_meeting(session, deal.id, now, owner)
    task = await deals_repo.next_open_task(session, deal.id, owner)
    if meeting is not None and (
        task is None or task.due_at is None or meeting.start <= task.due_at
    ):
        return FollowUp("meeting", meeting.id, meeting.start, meeting.title)
    if task is not None:
        return FollowUp("task", task.id, task.due_at, task.title)
    return None
