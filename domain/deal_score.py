"""The deal score: how alive a deal looks from its engagements, 0 to 100, and when it falls.

A buyer response is a reply, a meeting the buyer booked or held, or a connected call.
Five factors, each with its points and the activities it counted, so a score explains itself:

| factor | points |
| --- | --- |
| recency: the last engagement | 30 within 7 days, 20 within 14, 10 within 30, else 0 |
| activity: engagements in the last 30 days | 4 each, at most 20 |
| buyer: buyer responses in the last 30 days | 25 for two or more, 15 for one |
| next step: a future meeting or an open task | 15 |
| close date: set and not passed | 10; 5 when unset; 0 when passed |

The score is computed from what the viewer may see (DEAL-8), so each visibility scope keeps
its own history, one score a day. The score has fallen when today's is at least `FALL_POINTS`
below the highest kept for the same scope in the `FALL_WINDOW` days before today.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.engagements import Engagement

FALL_POINTS = 15
FALL_WINDOW = timedelta(days=30)
_ACTIVE_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class ScoreFactor:
    name: str
    points: int
    most: int
    reason: str
    activity_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class DealScore:
    value: int
    factors: tuple[ScoreFactor, ...]

    def factor(self, name: str) -> ScoreFactor:
        return next(f for f in self.factors if f.name == name)


@dataclass(frozen=True)
class ScorePoint:
    """A score kept in the history: its row id, its day and its value."""

    id: int
    scored_on: date
    value: int


def score_deal(
    engagements: Sequence[Engagement],
    *,
    now: datetime,
    today: date,
    follow_up_scheduled: bool,
    close_date: date | None,
) -> DealScore:
    """The score of a deal at `now` (`today` in the viewer's zone) from its engagements,
    newest first."""
    past = [e for e in engagements if e.occurred_at <= now]
    recent = [e for e in past if now - e.occurred_at <= _ACTIVE_WINDOW]
    factors = (
        _recency(past, now),
        _activity(recent),
        _buyer(recent),
        _next_step(follow_up_scheduled),
        _close_date(close_date, today),
    )
    return DealScore(sum(f.points for f in factors), factors)


def _recency(past: Sequence[Engagement], now: datetime) -> ScoreFactor:
    if not past:
        return ScoreFactor("recency", 0, 30, "no engagement yet")
    last = past[0]
    days = (now - last.occurred_at).days
    points = 30 if days < 7 else 20 if days < 14 else 10 if days < 30 else 0
    return ScoreFactor(
        "recency", points, 30, f"last engagement {days} days ago", (last.activity_id,)
    )


def _activity(recent: Sequence[Engagement]) -> ScoreFactor:
    counted = recent[:5]
    return ScoreFactor(
        "activity",
        4 * len(counted),
        20,
        f"{len(recent)} engagements in the last 30 days",
        tuple(e.activity_id for e in counted),
    )


def _buyer(recent: Sequence[Engagement]) -> ScoreFactor:
    responses = [e for e in recent if e.is_buyer_response]
    points = 25 if len(responses) >= 2 else 15 if responses else 0
    return ScoreFactor(
        "buyer",
        points,
        25,
        f"{len(responses)} buyer responses in the last 30 days",
        tuple(e.activity_id for e in responses[:5]),
    )


def _next_step(scheduled: bool) -> ScoreFactor:
    if scheduled:
        return ScoreFactor("next_step", 15, 15, "a meeting or task is scheduled")
    return ScoreFactor("next_step", 0, 15, "nothing is scheduled")


def _close_date(close_date: date | None, today: date) -> ScoreFactor:
    if close_date is None:
        return ScoreFactor("close_date", 5, 10, "no close date")
    if close_date < today:
        return ScoreFactor("close_date", 0, 10, f"the close date {close_date} has passed")
    return ScoreFactor("close_date", 10, 10, f"closing on {close_date}")


def score_fall(current: int, history: Sequence[ScorePoint], today: date) -> ScorePoint | None:
    """The earlier score the current one has fallen from: the highest kept in the window
    before today, when today's is at least FALL_POINTS below it; else None."""
    window = [p for p in history if today - FALL_WINDOW <= p.scored_on < today]
    if not window:
        return None
    peak = max(window, key=lambda p: (p.value, p.scored_on))
    return peak if current <= peak.value - FALL_POINTS else None
