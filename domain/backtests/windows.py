"""The stretch of past time a backtest replays: at most 90 days, ending no later than now."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import FieldError, InvalidInput

DEFAULT_DAYS = 30
MAX_DAYS = 90
MAX_WINDOW = timedelta(days=MAX_DAYS)


@dataclass(frozen=True)
class Window:
    """[start, end): activities that occurred and stage changes made in it are replayed."""

    start: datetime
    end: datetime

    def holds(self, at: datetime) -> bool:
        return self.start <= at < self.end


def resolve_window(
    now: datetime,
    *,
    days: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Window:
    """The window asked for: `days` ending now (30 when nothing is given), or `start`..`end`.

    Raises InvalidInput naming `days`, `window.start` or `window.end`: both forms at once, an
    end in the future (nothing happened there yet), a start not before the end, a window
    longer than 90 days (the replay reads every activity in it).
    """
    errors: list[FieldError] = []
    given = start is not None or end is not None
    if days is not None and given:
        errors.append(FieldError("days", "one_of", "give days or window, not both"))
    if not given:
        span = timedelta(days=days if days is not None else DEFAULT_DAYS)
        if span > MAX_WINDOW or span <= timedelta(0):
            errors.append(FieldError("days", "range", f"days runs from 1 to {MAX_DAYS}"))
        if errors:
            raise InvalidInput("; ".join(e.message for e in errors), errors)
        return Window(now - span, now)
    if start is None:
        errors.append(FieldError("window.start", "required", "a window needs start"))
    if end is None:
        errors.append(FieldError("window.end", "required", "a window needs end"))
    if start is not None and end is not None:
        if end > now:
            errors.append(
                FieldError("window.end", "not_future", "a backtest replays the past: end <= now")
            )
        if start >= end:
            errors.append(FieldError("window.start", "before_end", "start must come before end"))
        elif end - start > MAX_WINDOW:
            errors.append(
                FieldError(
                    "window.start", "at_most_90_days", f"a window spans at most {MAX_DAYS} days"
                )
            )
    if errors:
        raise InvalidInput("; ".join(e.message for e in errors), errors)
    assert start is not None and end is not None
    return Window(start, end)
