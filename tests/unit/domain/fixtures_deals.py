"""Fixed deals and engagements for the insight rules: one time, one deal, known activities."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from domain.deal_risks import DealFacts, FollowUp
from domain.deals import stage_norm
from domain.engagements import Engagement, EngagementType

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
TODAY = date(2026, 6, 15)
ZONE = "UTC"


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def email_sent(activity_id: int, days: float, body: str = "", subject: str = "") -> Engagement:
    return Engagement(
        activity_id, EngagementType.EMAIL_SENT, ago(days), user_id=1, subject=subject, body=body
    )


def reply(activity_id: int, days: float, body: str = "", subject: str = "") -> Engagement:
    return Engagement(
        activity_id, EngagementType.EMAIL_REPLY, ago(days), user_id=1, subject=subject, body=body
    )


def note(activity_id: int, days: float, body: str) -> Engagement:
    return Engagement(activity_id, EngagementType.NOTE, ago(days), user_id=1, body=body)


def call(activity_id: int, days: float, outcome: str | None = None) -> Engagement:
    return Engagement(activity_id, EngagementType.CALL, ago(days), user_id=1, outcome=outcome)


def meeting(
    activity_id: int, days: float, outcome: str = "completed", notes: str | None = None
) -> Engagement:
    return Engagement(
        activity_id,
        EngagementType.MEETING,
        ago(days),
        user_id=1,
        subject="Demo",
        body=notes,
        outcome=outcome,
        start=ago(days),
    )


FACTS = DealFacts(
    deal_id=7,
    name="Acme annual plan",
    is_open=True,
    stage_label="Proposal",
    stage_entered_at=ago(3),
    stage_change_id=41,
    norm=stage_norm(10, 20 * 86400.0),
    close_date=date(2026, 7, 31),
    follow_up=FollowUp("meeting", 5, NOW + timedelta(days=2), "Review"),
)


def facts(**changes: object) -> DealFacts:
    return replace(FACTS, **changes)  # type: ignore[arg-type]
