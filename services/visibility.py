"""Which CRM records a user sees (PERM-7): the one place every read of deals and activities
asks. `permissions` on the user: `all`, or `owned` (deals they own, activities they logged)."""

from db.models import User
from domain.roles import Visibility


def activities_logged_by(user: User) -> int | None:
    """The user id an activity read is limited to (`user_id` = logger); None for all."""
    return user.id if user.activity_visibility == Visibility.OWNED else None


def deals_owned_by(user: User) -> int | None:
    """The owner id a deal read is limited to; None for all."""
    return user.id if user.deal_visibility == Visibility.OWNED else None
