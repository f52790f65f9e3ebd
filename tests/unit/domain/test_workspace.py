from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.workspace import (
    ScheduleRange,
    Slot,
    Window,
    calendar_window,
    local_today,
    overlaps,
    summarize,
)

HELSINKI = ZoneInfo("Europe/Helsinki")


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 4, hour, minute, tzinfo=UTC)


class TestWindows:
    def test_a_day_is_between_local_midnights_ws_3(self) -> None:
        window = calendar_window(ScheduleRange.DAY, date(2026, 3, 5), "Europe/Helsinki")
        assert window == Window(
            datetime(2026, 3, 5, tzinfo=HELSINKI), datetime(2026, 3, 6, tzinfo=HELSINKI)
        )
        assert window.start.astimezone(UTC) == datetime(2026, 3, 4, 22, tzinfo=UTC)

    def test_a_week_runs_monday_to_sunday_across_a_dst_change_ws_9(self) -> None:
        # Clocks go forward in Helsinki on Sunday 29 March 2026: that week has 167 hours.
        window = calendar_window(ScheduleRange.WEEK, date(2026, 3, 26), "Europe/Helsinki")
        assert window.start == datetime(2026, 3, 23, tzinfo=HELSINKI)
        assert window.end == datetime(2026, 3, 30, tzinfo=HELSINKI)
        assert window.start.utcoffset() == timedelta(hours=2)
        assert window.end.utcoffset() == timedelta(hours=3)
        # (Python subtracts wall times within one zone: compare the instants.)
        assert window.end.astimezone(UTC) - window.start.astimezone(UTC) == timedelta(hours=167)

    def test_a_sunday_belongs_to_the_week_before_it_ws_9(self) -> None:
        window = calendar_window(ScheduleRange.WEEK, date(2026, 3, 29), "UTC")
        assert window.start.date() == date(2026, 3, 23)

    def test_a_month_is_its_calendar_month_ws_9(self) -> None:
        february = calendar_window(ScheduleRange.MONTH, date(2028, 2, 29), "America/New_York")
        assert february.start.date() == date(2028, 2, 1)
        assert february.end.date() == date(2028, 3, 1)
        december = calendar_window(ScheduleRange.MONTH, date(2026, 12, 31), "UTC")
        assert december.end == datetime(2027, 1, 1, tzinfo=ZoneInfo("UTC"))

    def test_today_is_the_users_local_date_ws_3(self) -> None:
        assert local_today(at(23, 30), "Europe/Helsinki") == date(2026, 3, 5)
        assert local_today(at(23, 30), "UTC") == date(2026, 3, 4)
        assert local_today(at(23, 30), "Not/AZone") == date(2026, 3, 4)


class TestOverlaps:
    def test_a_task_inside_a_busy_block_and_meetings_that_intersect_overlap_ws_9(self) -> None:
        busy = Slot(("meeting", 1), at(9), at(17))
        meeting = Slot(("meeting", 2), at(16), at(18))
        task = Slot(("task", 1), at(10))
        later = Slot(("task", 2), at(17, 30))
        found = overlaps([busy, meeting, task, later])
        assert found[("meeting", 1)] == [("meeting", 2), ("task", 1)]
        assert found[("meeting", 2)] == [("meeting", 1), ("task", 2)]
        assert found[("task", 1)] == [("meeting", 1)]
        assert found[("task", 2)] == [("meeting", 2)]

    def test_back_to_back_meetings_and_tasks_at_one_time_do_not_overlap(self) -> None:
        first = Slot(("meeting", 1), at(9), at(10))
        second = Slot(("meeting", 2), at(10), at(11))
        task_a = Slot(("task", 1), at(12))
        task_b = Slot(("task", 2), at(12))
        at_end = Slot(("task", 3), at(11))
        found = overlaps([first, second, task_a, task_b, at_end])
        assert all(keys == [] for keys in found.values())

    def test_a_task_when_a_meeting_starts_overlaps_it(self) -> None:
        meeting = Slot(("meeting", 1), at(9), at(10))
        task = Slot(("task", 1), at(9))
        assert overlaps([task, meeting])[("task", 1)] == [("meeting", 1)]

    def test_a_meeting_of_no_length_overlaps_the_block_holding_it(self) -> None:
        block = Slot(("meeting", 1), at(9), at(12))
        instant = Slot(("meeting", 2), at(11), at(11))
        assert overlaps([block, instant])[("meeting", 1)] == [("meeting", 2)]


class TestSummaries:
    def test_each_type_reads_as_a_line(self) -> None:
        assert summarize("email_sent", {"email": {"to": ["jo@acme.io"]}}) == (
            "Email sent to jo@acme.io"
        )
        assert summarize("email_reply", {"email": {"from": "Jo <jo@acme.io>"}}) == (
            "Email reply from Jo <jo@acme.io>"
        )
        assert summarize("email_open", {}) == "Email opened"
        assert summarize("call", {"call": {"outcome": "left_voicemail"}}) == (
            "Call: left voicemail"
        )
        assert summarize("call", {"call": {"status": "completed"}}) == "Call (completed)"
        assert summarize("meeting", {"meeting": {"title": "Demo", "outcome": "no_show"}}) == (
            "Meeting: Demo (no show)"
        )
        assert summarize("meeting", {"meeting": {"kind": "busy", "title": "OOO"}}) == "Busy"
        assert summarize("note", {}) == "Note"

    def test_details_of_an_unexpected_shape_still_summarize(self) -> None:
        assert summarize("email_sent", {"email": "?"}) == "Email sent"
        assert summarize("call", {"call": {"outcome": 3}}) == "Call"
