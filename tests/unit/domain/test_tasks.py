from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from domain.tasks import DueWindow, TaskView, due_window

HELSINKI = ZoneInfo("Europe/Helsinki")
# 23:30 UTC on 4 March is already 5 March in Helsinki.
NOW = datetime(2026, 3, 4, 23, 30, tzinfo=UTC)


def test_today_is_the_users_local_day_ws_3() -> None:
    assert due_window(TaskView.TODAY, NOW, "Europe/Helsinki") == DueWindow(
        datetime(2026, 3, 5, tzinfo=HELSINKI), datetime(2026, 3, 6, tzinfo=HELSINKI)
    )
    assert due_window(TaskView.TODAY, NOW, "UTC") == DueWindow(
        datetime(2026, 3, 4, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC)
    )


def test_overdue_is_before_today_and_tomorrow_the_next_day() -> None:
    assert due_window(TaskView.OVERDUE, NOW, "UTC") == DueWindow(
        None, datetime(2026, 3, 4, tzinfo=UTC)
    )
    assert due_window(TaskView.TOMORROW, NOW, "UTC") == DueWindow(
        datetime(2026, 3, 5, tzinfo=UTC), datetime(2026, 3, 6, tzinfo=UTC)
    )


def test_upcoming_starts_tomorrow_and_all_has_no_window() -> None:
    assert due_window(TaskView.UPCOMING, NOW, "UTC") == DueWindow(
        datetime(2026, 3, 5, tzinfo=UTC), None
    )
    assert due_window(TaskView.ALL, NOW, "UTC") is None
