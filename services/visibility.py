"""Which CRM records a user sees (PERM-7): the one place every read of deals and activities
asks. `permissions` on the user: `all`, or `owned` (deals they own, activities they logged).

Activities here include the records they make or stand for: meetings and calls (their owner
is the user who logged them) and the tasks on a deal (their owner). Lists, timelines, the
deals tab, overviews and insights all take their limits from these functions; repositories
apply them as given.
"""

from db.models import Deal, User
from domain.errors import Forbidden, NotFound
from domain.roles import Visibility


def activities_logged_by(user: User) -> int | None:
    """The user id an activity read is limited to (`user_id` = logger); None for all."""
    return user.id if user.activity_visibility == Visibility.OWNED else None


def deals_owned_by(user: User) -> int | None:
    """The owner id a deal read is limited to; None for all."""
    return user.id if user.deal_visibility == Visibility.OWNED else None


def may_see_deal(user: User, deal: Deal) -> bool:
    limit = deals_owned_by(user)
    return limit is None or deal.owner_id == limit


def visible_deal(user: User, deal: Deal | None, deal_id: int) -> Deal:
    """The deal, if the user may see it. Raises NotFound otherwise, as for a missing one."""
    if deal is None or not may_see_deal(user, deal):
        raise NotFound(f"deal {deal_id} does not exist")
    return deal


def may_see_activity_of(user: User, logged_by: int | None) -> bool:
    limit = activities_logged_by(user)
    return limit is None or logged_by == limit


def require_deals_of(user: User, owner_ids: frozenset[int]) -> None:
    """The user may list the deals of these owners. Raises Forbidden naming the first owner
    whose deals they may not see."""
    limit = deals_owned_by(user)
    others = sorted(o for o in owner_ids if limit is not None and o != limit)
    if others:
        raise Forbidden(
            f"your deal visibility is `owned`: the deals of user {others[0]} are not yours to see"
        )


def activity_scope(user: User) -> str:
    """A name for what the user sees of activities: `all`, or `user:<id>`. Things computed
    from activities (deal scores) are kept per scope, so no one reads one computed from
    activities they may not see."""
    limit = activities_logged_by(user)
    return "all" if limit is None else f"user:{limit}"
