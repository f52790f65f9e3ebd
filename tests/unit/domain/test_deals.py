"""The deals tab's rules: stage norms from the pipeline's history, stalled deals, and the
calendar month in the caller's zone (DEAL-2)."""

from datetime import UTC, date, datetime, timedelta

from domain.deals import (
    NORM_DEFAULT,
    NORM_FLOOR,
    NORM_MIN_SAMPLES,
    is_stalled,
    month_of,
    stage_norm,
)

DAY = 86400.0


class TestStageNorm:
    def test_the_median_of_enough_exits_is_the_norm(self) -> None:
        norm = stage_norm(NORM_MIN_SAMPLES, 20 * DAY)
        assert norm.duration == timedelta(days=20) and norm.median == timedelta(days=20)
        assert "median time of the 5 deals" in norm.basis

    def test_too_few_exits_give_the_default(self) -> None:
        norm = stage_norm(NORM_MIN_SAMPLES - 1, 2 * DAY)
        assert norm.duration == NORM_DEFAULT and norm.median is None
        assert "default of 30 days" in norm.basis and "only 4 deals" in norm.basis

    def test_no_history_gives_the_default(self) -> None:
        assert stage_norm(0, None).duration == NORM_DEFAULT

    def test_a_quick_stage_is_held_to_the_floor(self) -> None:
        norm = stage_norm(50, 3600.0)
        assert norm.duration == NORM_FLOOR and norm.median == timedelta(hours=1)
        assert "floor of 7 days" in norm.basis and "1 hour" in norm.basis


class TestStalled:
    NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)

    def test_longer_than_the_norm_is_stalled(self) -> None:
        norm = stage_norm(10, 10 * DAY)
        assert is_stalled(self.NOW - timedelta(days=10, seconds=1), self.NOW, norm)

    def test_up_to_the_norm_is_not_stalled(self) -> None:
        norm = stage_norm(10, 10 * DAY)
        assert not is_stalled(self.NOW - timedelta(days=10), self.NOW, norm)


class TestMonth:
    def test_the_month_is_the_callers_local_month(self) -> None:
        # 31 January 20:00 UTC is already 1 February in Kiritimati (UTC+14).
        now = datetime(2026, 1, 31, 20, tzinfo=UTC)
        assert month_of(now, "UTC") == (date(2026, 1, 1), date(2026, 1, 31))
        assert month_of(now, "Pacific/Kiritimati") == (date(2026, 2, 1), date(2026, 2, 28))

    def test_december_ends_on_the_31st(self) -> None:
        assert month_of(datetime(2026, 12, 5, tzinfo=UTC), "UTC") == (
            date(2026, 12, 1),
            date(2026, 12, 31),
        )
