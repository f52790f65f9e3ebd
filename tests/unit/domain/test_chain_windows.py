"""Execution windows of chains (ACT-7): when a step due at some moment may run."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.chains.windows import ExecutionWindow, is_open, next_opening

HELSINKI = ZoneInfo("Europe/Helsinki")
NEW_YORK = ZoneInfo("America/New_York")


def window(
    weekdays: tuple[int, ...] = (1, 2, 3, 4, 5),
    start: str = "09:00",
    end: str = "17:00",
    zone: str = "Europe/Helsinki",
) -> ExecutionWindow:
    return ExecutionWindow.model_validate(
        {"weekdays": weekdays, "start": start, "end": end, "time_zone": zone}
    )


class TestNextOpening:
    def test_a_step_due_inside_the_window_runs_when_due(self) -> None:
        due = datetime(2025, 3, 5, 11, 30, tzinfo=HELSINKI)  # a Wednesday
        assert next_opening(due, window()) == due

    def test_a_step_due_on_saturday_waits_to_monday_at_the_opening(self) -> None:
        due = datetime(2025, 3, 8, 10, 0, tzinfo=UTC)  # a Saturday
        opening = next_opening(due, window())
        assert opening == datetime(2025, 3, 10, 9, 0, tzinfo=HELSINKI)
        assert opening.tzinfo == UTC

    def test_a_step_due_before_the_opening_waits_for_it_the_same_day(self) -> None:
        due = datetime(2025, 3, 5, 7, 15, tzinfo=HELSINKI)
        assert next_opening(due, window()) == datetime(2025, 3, 5, 9, 0, tzinfo=HELSINKI)

    def test_a_step_due_at_the_closing_time_waits_for_the_next_day(self) -> None:
        due = datetime(2025, 3, 5, 17, 0, tzinfo=HELSINKI)
        assert next_opening(due, window()) == datetime(2025, 3, 6, 9, 0, tzinfo=HELSINKI)

    def test_the_window_is_read_in_its_own_zone_not_the_due_times(self) -> None:
        # 23:00 in New York on a Friday is 06:00 on Saturday in Helsinki.
        due = datetime(2025, 3, 7, 23, 0, tzinfo=NEW_YORK)
        opening = next_opening(due, window(weekdays=(6,), start="08:00", end="12:00"))
        assert opening == datetime(2025, 3, 8, 8, 0, tzinfo=HELSINKI)

    def test_an_opening_the_clock_skips_opens_when_the_clock_jumps(self) -> None:
        # Helsinki springs forward on 2025-03-30 from 03:00 to 04:00: 03:30 never shows.
        due = datetime(2025, 3, 30, 1, 0, tzinfo=HELSINKI)
        opening = next_opening(due, window(weekdays=(7,), start="03:30", end="06:00"))
        assert opening == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)  # 04:00 local, summer time
        assert opening.astimezone(HELSINKI).time() == time(4, 0)

    def test_a_window_the_clock_skips_entirely_opens_a_week_later(self) -> None:
        due = datetime(2025, 3, 30, 1, 0, tzinfo=HELSINKI)
        opening = next_opening(due, window(weekdays=(7,), start="03:10", end="03:50"))
        assert opening == datetime(2025, 4, 6, 3, 10, tzinfo=HELSINKI)

    def test_a_repeated_hour_opens_at_its_second_start_when_the_first_has_passed(self) -> None:
        # New York falls back on 2025-11-02: 01:00 to 02:00 happens twice.
        first_pass_late = datetime(2025, 11, 2, 1, 50, tzinfo=NEW_YORK)  # fold 0: daylight
        repeated = window(weekdays=(7,), start="01:30", end="01:45", zone="America/New_York")
        opening = next_opening(first_pass_late, repeated)
        assert opening == datetime(2025, 11, 2, 6, 30, tzinfo=UTC)  # 01:30 standard time

    def test_naive_due_times_are_refused(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            next_opening(datetime(2025, 3, 5, 9, 0), window())


class TestWindowRules:
    @pytest.mark.parametrize(
        ("change", "rule"),
        [
            ({"weekdays": []}, "too_short"),
            ({"weekdays": [1, 1]}, "unique_items"),
            ({"weekdays": [0]}, "greater_than_equal"),
            ({"weekdays": [8]}, "less_than_equal"),
            ({"start": "17:00", "end": "09:00"}, "start_before_end"),
            ({"start": "09:00", "end": "09:00"}, "start_before_end"),
            ({"time_zone": "Mars/Olympus"}, "time_zone"),
            ({"start": "09:00+02:00"}, "naive_time"),
        ],
    )
    def test_a_broken_window_is_refused_by_its_rule(self, change, rule) -> None:
        raw = {"weekdays": [1], "start": "09:00", "end": "17:00", "time_zone": "UTC", **change}
        with pytest.raises(ValidationError) as caught:
            ExecutionWindow.model_validate(raw)
        assert rule in {e["type"] for e in caught.value.errors()}

    def test_weekdays_are_kept_in_order(self) -> None:
        assert window(weekdays=(5, 1, 3)).weekdays == (1, 3, 5)


ZONES = [
    "UTC",
    "Europe/Helsinki",
    "America/New_York",
    "America/Santiago",
    "Australia/Lord_Howe",  # a half-hour DST shift
    "Asia/Kathmandu",  # +05:45
    "Pacific/Chatham",  # +12:45 / +13:45
]
QUARTERS = st.integers(0, 24 * 4 - 1).map(lambda q: time(q // 4, q % 4 * 15))


@st.composite
def windows(draw: st.DrawFn) -> ExecutionWindow:
    start, end = sorted(draw(st.lists(QUARTERS, min_size=2, max_size=2, unique=True)))
    days = draw(st.sets(st.integers(1, 7), min_size=1))
    return ExecutionWindow(
        weekdays=tuple(days), start=start, end=end, time_zone=draw(st.sampled_from(ZONES))
    )


DUE = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)


class TestNextOpeningProperties:
    @settings(max_examples=300, deadline=None)
    @given(due=DUE, w=windows())
    def test_the_opening_is_inside_the_window_and_not_before_the_due_time(self, due, w) -> None:
        opening = next_opening(due, w)
        assert opening >= due
        assert is_open(opening, w)
        local = opening.astimezone(ZoneInfo(w.time_zone))
        assert local.isoweekday() in w.weekdays and w.start <= local.time() < w.end

    @settings(max_examples=150, deadline=None)
    @given(due=DUE, w=windows())
    def test_no_earlier_moment_after_the_due_time_is_inside_the_window(self, due, w) -> None:
        opening = next_opening(due, w)
        # Openings fall on quarter hours here (starts, and the zones' clock changes): probing
        # each quarter hour between finds any earlier one.
        probe = due.replace(minute=due.minute // 15 * 15, second=0, microsecond=0)
        while probe < opening:
            assert probe < due or not is_open(probe, w), f"open at {probe} before {opening}"
            probe += timedelta(minutes=15)

    @settings(max_examples=100, deadline=None)
    @given(due=DUE, w=windows())
    def test_a_step_due_at_an_opening_runs_then(self, due, w) -> None:
        opening = next_opening(due, w)
        assert next_opening(opening, w) == opening
