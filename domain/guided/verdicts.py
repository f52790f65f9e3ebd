"""What a guided-action rule says about one record at one instant, and the one way every rule
reaches it.

Every rule is a set of facts that hold or not whatever the time (the record is assigned, the
deal is open) plus instants: a creation delay is an instant from which a criterion holds
(GA-15: one hour after the meeting ends), a window or an "N days since" criterion an instant
from which it no longer does. Instants are inclusive: at the instant itself the verdict has
already changed, so a timer set for `wake_at` finds the new verdict.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Verdict:
    # The user the action is for (GA-1); None: nobody.
    user_id: int | None
    # All creation criteria hold now and no expiry condition does.
    holds: bool
    # The next instant after `now` at which the verdict changes by time alone (a creation
    # delay ending, a window or an "N days since" running out). None: only a change to the
    # data can change it.
    wake_at: datetime | None
    # When the item (one created now, or the existing one) expires by its window; None when
    # no window is stated or the verdict does not hold.
    expires_at: datetime | None


def decide(
    user_id: int | None,
    now: datetime,
    criteria: Iterable[bool],
    *,
    from_: Iterable[datetime | None] = (),
    until: Iterable[datetime | None] = (),
    window_end: datetime | None = None,
    item_window: timedelta | None = None,
    item_created_at: datetime | None = None,
) -> Verdict:
    """The verdict from the data-only `criteria` (all must hold), the instants `from_` which
    time-bound criteria hold and `until` which they hold (None: a criterion that does not
    hold at all), and the window: one ending at `window_end` (counted from a named
    timestamp), or `item_window` after the item's creation (GA-9; from when an item would be
    created when there is none yet)."""
    starts = list(from_)
    ends = list(until)
    if user_id is None or not all(criteria) or None in starts or None in ends:
        return Verdict(user_id, False, None, None)
    opens = max((s for s in starts if s is not None), default=None)
    if item_window is not None:
        created = item_created_at if item_created_at is not None else max(now, opens or now)
        window_end = created + item_window
    if window_end is not None:
        ends.append(window_end)
    closes = min((e for e in ends if e is not None), default=None)
    if closes is not None and (closes <= now or (opens is not None and opens >= closes)):
        # Time only moves on: a window that has run out stays out.
        return Verdict(user_id, False, None, None)
    if opens is not None and opens > now:
        return Verdict(user_id, False, opens, None)
    return Verdict(user_id, True, closes, window_end)
