"""The deals tab's rules (DEAL-1, DEAL-2): which open deals each view holds, and how long a deal
may stay in a stage before it counts as stalled.

A stage's norm comes from the pipeline's own history: the median time deals spent in the stage
before they left it, over the last `NORM_WINDOW`. A median of few exits says little, so with
fewer than `NORM_MIN_SAMPLES` exits the norm is `NORM_DEFAULT`; and a stage that deals usually
leave within hours would flag every deal that waits a weekend, so the norm is never below
`NORM_FLOOR`. A deal is stalled once it has been in its stage longer than the norm.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.bounds import zone_or_utc


class DealView(StrEnum):
    """The predefined views of the deals tab (DEAL-2); each holds open deals only."""

    ALL_OPEN = "all_open"
    # No future meeting and no open task on the deal.
    NO_ACTIVITY_SCHEDULED = "no_activity_scheduled"
    # Closing in the calendar month of today, in the caller's time zone.
    CLOSING_THIS_MONTH = "closing_this_month"
    # In its stage longer than the stage's norm.
    STALLED = "stalled"


class DealStageKind(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


# A future meeting with one of these outcomes is not going to happen: it schedules nothing.
NOT_HAPPENING = frozenset({"canceled", "no_show"})

NORM_WINDOW = timedelta(days=365)
NORM_MIN_SAMPLES = 5
NORM_DEFAULT = timedelta(days=30)
NORM_FLOOR = timedelta(days=7)
# Norms are kept per stage and computed again once older than this: they move slowly, and a
# list must not aggregate a year of history on every read.
NORM_MAX_AGE = timedelta(hours=1)


@dataclass(frozen=True)
class StageNorm:
    """How long deals usually stay in a stage, and what the figure rests on."""

    duration: timedelta
    samples: int
    # The median of the exits, when there were enough of them to use it.
    median: timedelta | None

    @property
    def basis(self) -> str:
        """A sentence saying where the norm comes from."""
        days = _days(self.duration)
        if self.median is None:
            return (
                f"the default of {days} (only {self.samples} deals have left this stage "
                f"in the last {NORM_WINDOW.days} days; {NORM_MIN_SAMPLES} are needed)"
            )
        if self.median < NORM_FLOOR:
            return (
                f"the floor of {days} (the median of {self.samples} exits, "
                f"{_days(self.median)}, is shorter)"
            )
        return f"{days}, the median time of the {self.samples} deals that left this stage"


def stage_norm(samples: int, median_seconds: float | None) -> StageNorm:
    """The norm of a stage from its exits: how many, and the median seconds spent in it."""
    if samples < NORM_MIN_SAMPLES or median_seconds is None:
        return StageNorm(NORM_DEFAULT, samples, None)
    median = timedelta(seconds=max(0.0, median_seconds))
    return StageNorm(max(median, NORM_FLOOR), samples, median)


def is_stalled(entered_at: datetime, now: datetime, norm: StageNorm) -> bool:
    return now - entered_at > norm.duration


def month_of(now: datetime, time_zone: str) -> tuple[date, date]:
    """The first and last day of the calendar month holding `now` in `time_zone`."""
    today = now.astimezone(zone_or_utc(time_zone)).date()
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def local_today(now: datetime, time_zone: str) -> date:
    return now.astimezone(zone_or_utc(time_zone)).date()


def _days(duration: timedelta) -> str:
    days = duration.total_seconds() / 86400
    if days >= 1:
        whole = round(days)
        return f"{whole} day" if whole == 1 else f"{whole} days"
    hours = max(1, round(days * 24))
    return f"{hours} hour" if hours == 1 else f"{hours} hours"


def days_between(earlier: datetime, later: datetime) -> int:
    """Whole days from `earlier` to `later` (0 when later is not after it)."""
    return max(0, int((later - earlier).total_seconds() // 86400))
