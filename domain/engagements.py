"""A deal's engagements as insights read them: its meetings, notes, emails and calls (DEAL-6).

Each is one activity the caller may see, with the words it carries: an email's subject and
body, a note's body, a meeting's title and notes. Pure data, built by the service.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.bounds import zone_or_utc


class EngagementType(StrEnum):
    """The activity types insights are built from; opens and LinkedIn messages are not."""

    EMAIL_SENT = "email_sent"
    EMAIL_REPLY = "email_reply"
    CALL = "call"
    MEETING = "meeting"
    NOTE = "note"


ENGAGEMENT_TYPES = frozenset(t.value for t in EngagementType)
# DEAL-6: the previous 100 meetings, notes, emails and calls, all four types together.
INSIGHT_ENGAGEMENTS = 100


@dataclass(frozen=True)
class Engagement:
    activity_id: int
    type: EngagementType
    occurred_at: datetime
    user_id: int | None = None
    # Email subject, meeting title.
    subject: str | None = None
    # Email body, note body, meeting notes.
    body: str | None = None
    # Call or meeting outcome; a call's status.
    outcome: str | None = None
    status: str | None = None
    start: datetime | None = None
    booked_by_contact: bool = False

    @property
    def is_email(self) -> bool:
        return self.type in (EngagementType.EMAIL_SENT, EngagementType.EMAIL_REPLY)

    @property
    def is_from_buyer(self) -> bool:
        """Written or done by the buyer: a reply, or a meeting the contact booked."""
        return self.type == EngagementType.EMAIL_REPLY or (
            self.type == EngagementType.MEETING and self.booked_by_contact
        )

    @property
    def is_buyer_response(self) -> bool:
        """The buyer took part: a reply, a meeting they booked or attended, a connected call."""
        return (
            self.is_from_buyer
            or (self.type == EngagementType.MEETING and self.outcome == "completed")
            or (self.type == EngagementType.CALL and self.outcome == "connected")
        )

    def words(self) -> str:
        """Everything written on it, subject first."""
        return "\n".join(p for p in (self.subject, self.body) if p)

    def label(self) -> str:
        """What it is, in a few words: `email sent`, `meeting "Demo"`."""
        names = {
            EngagementType.EMAIL_SENT: "email sent",
            EngagementType.EMAIL_REPLY: "email reply from the buyer",
            EngagementType.CALL: "call",
            EngagementType.MEETING: "meeting",
            EngagementType.NOTE: "note",
        }
        name = names[self.type]
        if self.subject and self.type != EngagementType.NOTE:
            return f'{name} "{clip(self.subject, 80)}"'
        return name

    def summary(self) -> str:
        """One line for the recent activity list (DEAL-7)."""
        if self.type == EngagementType.CALL:
            if self.outcome:
                return f"Call, outcome {self.outcome}"
            return f"Call, status {self.status}, no outcome logged" if self.status else "Call"
        if self.type == EngagementType.MEETING:
            title = f'Meeting "{clip(self.subject or "Meeting", 80)}"'
            return f"{title} ({self.outcome})" if self.outcome else title
        if self.type == EngagementType.NOTE:
            return f'Note: "{clip(self.body or "", 100)}"' if self.body else "Note"
        lead = "Email sent" if self.type == EngagementType.EMAIL_SENT else "Email reply"
        if self.subject:
            return f'{lead}: "{clip(self.subject, 100)}"'
        if self.body:
            return f'{lead}: "{clip(self.body, 100)}"'
        return lead


_SPACE = re.compile(r"\s+")


def clip(text: str, most: int) -> str:
    """One line of at most `most` characters, cut at a word with an ellipsis."""
    flat = _SPACE.sub(" ", text).strip()
    if len(flat) <= most:
        return flat
    cut = flat[: most - 1].rsplit(" ", 1)[0] or flat[: most - 1]
    return cut + "…"


def local_date(at: datetime, time_zone: str) -> str:
    return at.astimezone(zone_or_utc(time_zone)).date().isoformat()
