"""The deal score: five factors, each with its points and the activities it counted."""

from datetime import date

from domain.deal_score import score_deal
from tests.unit.domain.fixtures_deals import NOW, TODAY, call, email_sent, meeting, note, reply


def test_a_busy_deal_scores_full_marks() -> None:
    engagements = [
        reply(5, 1),
        meeting(4, 2),
        call(3, 3, "connected"),
        email_sent(2, 4),
        note(1, 5, "x"),
    ]
    score = score_deal(
        engagements, now=NOW, today=TODAY, follow_up_scheduled=True, close_date=date(2026, 7, 1)
    )
    assert score.value == 100
    assert score.factor("recency").activity_ids == (5,)
    assert score.factor("buyer").activity_ids == (5, 4, 3)


def test_a_quiet_deal_loses_its_points_factor_by_factor() -> None:
    score = score_deal(
        [note(1, 40, "x")],
        now=NOW,
        today=TODAY,
        follow_up_scheduled=False,
        close_date=date(2026, 6, 1),
    )
    assert score.value == 0
    assert score.factor("close_date").reason == "the close date 2026-06-01 has passed"


def test_recency_steps_down_with_the_weeks() -> None:
    points = [
        score_deal(
            [note(1, days, "x")], now=NOW, today=TODAY, follow_up_scheduled=False, close_date=None
        )
        .factor("recency")
        .points
        for days in (1, 8, 20, 31)
    ]
    assert points == [30, 20, 10, 0]


def test_no_close_date_is_half_marks() -> None:
    score = score_deal([], now=NOW, today=TODAY, follow_up_scheduled=False, close_date=None)
    assert score.factor("close_date").points == 5 and score.value == 5
