"""How the facts in guided-action snapshots are read from stored records: which activities
are a record's own engagement, which count as the owner's, and what an email's domain is.

The snapshot loader computes the facts with these rules (in SQL or on loaded rows); the
rules in this package only compare them.
"""

from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any

from domain.activities import ActivityType
from domain.engagements import ENGAGEMENT_TYPES

# Activities the contact or lead did rather than the user: they are engagement (GA-12, GA-23,
# GA-24), never something the user logged (GA-11). A meeting counts when the contact booked
# it (details.meeting.booked_by_contact).
INBOUND_TYPES = frozenset({ActivityType.EMAIL_REPLY.value, ActivityType.EMAIL_OPEN.value})

# A deal's engagement (GA-25, GA-27): its meetings, notes, emails and calls, as for insights.
DEAL_ENGAGEMENT_TYPES = ENGAGEMENT_TYPES


def _part(details: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    part = details.get(name)
    return part if isinstance(part, Mapping) else {}


def is_inbound(activity_type: str, details: Mapping[str, Any]) -> bool:
    """Whether the activity is the contact's or lead's own doing: a reply, an open, or a
    meeting they booked."""
    if activity_type in INBOUND_TYPES:
        return True
    return activity_type == ActivityType.MEETING and bool(
        _part(details, "meeting").get("booked_by_contact")
    )


def email_domain(address: str | None) -> str | None:
    """The lower-case domain of an address (`Ann <ann@Example.com>` -> `example.com`); None
    when there is none."""
    if not address:
        return None
    _, bare = parseaddr(address)
    local, at, domain = (bare or address).strip().rpartition("@")
    if not at or not local or not domain:
        return None
    return domain.strip().rstrip(".").lower() or None


def email_address(address: str | None) -> str | None:
    """The lower-case bare address of `Name <a@b.c>` or `a@b.c`; None when there is none."""
    if not address:
        return None
    _, bare = parseaddr(address)
    bare = bare.strip().lower()
    return bare if "@" in bare else None


def primary_recipient(details: Mapping[str, Any]) -> str | None:
    """The bare address an email was to: `details.email.primary_recipient`, else the first of
    `details.email.to`."""
    email = _part(details, "email")
    given = email.get("primary_recipient")
    if isinstance(given, str) and given.strip():
        return email_address(given)
    to = email.get("to")
    if isinstance(to, list) and to and isinstance(to[0], str):
        return email_address(to[0])
    return None


def is_reply_to_user(
    activity_type: str,
    activity_user_id: int | None,
    details: Mapping[str, Any],
    user_id: int,
    user_email: str,
) -> bool:
    """An `email_reply` to `user_id` where that user is the primary recipient (GA-18, GA-20).
    A reply naming no recipient counts when it is the user's (activities.user_id)."""
    if activity_type != ActivityType.EMAIL_REPLY or activity_user_id != user_id:
        return False
    recipient = primary_recipient(details)
    return recipient is None or recipient == email_address(user_email)


def same_domain(a: str | None, b: str | None) -> bool:
    """Both known and equal: an unknown domain is never the user's own."""
    return a is not None and b is not None and a == b
