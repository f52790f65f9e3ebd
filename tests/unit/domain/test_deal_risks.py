"""Each risk rule of deal insights on fixed fixtures, firing and not firing (DEAL-7)."""

from datetime import date, timedelta

from domain.deal_risks import (
    CloseDateChange,
    Evidence,
    EvidenceKind,
    RiskKind,
    budget,
    buyer_uncertainty,
    cite,
    close_date_slipped,
    falling_score,
    no_follow_up,
    no_reply,
    stage_stalled,
)
from domain.deal_score import DealScore, ScorePoint, score_deal
from domain.deals import stage_norm
from tests.unit.domain.fixtures_deals import (
    NOW,
    TODAY,
    ZONE,
    ago,
    call,
    email_sent,
    facts,
    meeting,
    note,
    reply,
)


class TestNoFollowUp:
    def test_fires_without_a_meeting_or_task_and_cites_the_last_engagement(self) -> None:
        risk = no_follow_up(facts(follow_up=None), [call(12, 1), note(11, 2, "x")], ZONE)
        assert risk is not None and risk.kind == RiskKind.NO_FOLLOW_UP
        assert risk.activity_ids == (12,) and "the last engagement was the call" in risk.text

    def test_fires_on_a_deal_with_no_engagement_citing_nothing(self) -> None:
        risk = no_follow_up(facts(follow_up=None), [], ZONE)
        assert risk is not None and risk.activity_ids == ()

    def test_does_not_fire_with_something_scheduled(self) -> None:
        assert no_follow_up(facts(), [call(12, 1)], ZONE) is None

    def test_does_not_fire_on_a_closed_deal(self) -> None:
        assert no_follow_up(facts(follow_up=None, is_open=False), [], ZONE) is None


class TestStageStalled:
    def test_fires_past_the_norm_citing_the_stage_change(self) -> None:
        risk = stage_stalled(facts(stage_entered_at=ago(25)), NOW)
        assert risk is not None and risk.kind == RiskKind.STAGE_STALLED
        assert risk.evidence == (Evidence(EvidenceKind.STAGE_CHANGE, 41),)
        assert '"Proposal" for 25 days' in risk.text and "20 days, the median" in risk.text

    def test_does_not_fire_within_the_norm(self) -> None:
        assert stage_stalled(facts(stage_entered_at=ago(19)), NOW) is None

    def test_uses_the_default_norm_without_history(self) -> None:
        thin = facts(norm=stage_norm(2, 86400.0), stage_entered_at=ago(25))
        assert stage_stalled(thin, NOW) is None
        risk = stage_stalled(facts(norm=stage_norm(2, 86400.0), stage_entered_at=ago(31)), NOW)
        assert risk is not None and "default of 30 days" in risk.text


class TestCloseDateSlipped:
    def test_fires_when_the_close_date_has_passed(self) -> None:
        risk = close_date_slipped(facts(close_date=date(2026, 6, 14)), NOW, TODAY)
        assert risk is not None and "2026-06-14 has passed" in risk.text

    def test_fires_when_moved_later_citing_each_change(self) -> None:
        changes = (
            CloseDateChange(3, ago(40), date(2026, 5, 31), date(2026, 6, 30)),
            CloseDateChange(4, ago(10), date(2026, 6, 30), date(2026, 7, 31)),
        )
        risk = close_date_slipped(facts(close_date_changes=changes), NOW, TODAY)
        assert risk is not None and risk.kind == RiskKind.CLOSE_DATE_SLIPPED
        assert [e.id for e in risk.evidence] == [3, 4]
        assert "moved later 2 times" in risk.text and "from 2026-06-30 to 2026-07-31" in risk.text

    def test_does_not_fire_when_moved_earlier_or_long_ago(self) -> None:
        changes = (
            CloseDateChange(3, ago(200), date(2026, 1, 31), date(2026, 7, 31)),
            CloseDateChange(4, ago(5), date(2026, 8, 31), date(2026, 7, 31)),
            CloseDateChange(5, ago(4), None, date(2026, 7, 31)),
        )
        assert close_date_slipped(facts(close_date_changes=changes), NOW, TODAY) is None

    def test_does_not_fire_on_a_closed_deal(self) -> None:
        closed = facts(close_date=date(2026, 1, 1), is_open=False)
        assert close_date_slipped(closed, NOW, TODAY) is None


class TestLanguage:
    def test_budget_language_fires_citing_every_activity_that_has_it(self) -> None:
        engagements = [
            email_sent(30, 1, "Hi Jo,\nSorry to hear about the budget cut. Can we talk?"),
            note(29, 3, "Weather was nice."),
            reply(28, 5, "Our budget is frozen until Q3."),
        ]
        risk = budget(engagements, ZONE)
        assert risk is not None and risk.kind == RiskKind.BUDGET
        assert risk.activity_ids == (30, 28)
        assert '"Sorry to hear about the budget cut."' in risk.text
        assert "(1 more activity says so)" in risk.text

    def test_budget_does_not_fire_on_nearby_words(self) -> None:
        engagements = [email_sent(30, 1, "We budgeted for cutting-edge tools. Budgets are fine.")]
        assert budget(engagements, ZONE) is None

    def test_a_curly_apostrophe_and_any_case_match(self) -> None:
        risk = budget([reply(31, 1, "Honestly we CAN\u2019T AFFORD it this year.")], ZONE)
        assert risk is not None and risk.activity_ids == (31,)
        assert buyer_uncertainty([reply(32, 1, "We are NOT SURE yet.")], ZONE) is not None

    def test_uncertainty_reads_meeting_notes(self) -> None:
        risk = buyer_uncertainty([meeting(32, 2, notes="They want to postpone the rollout.")], ZONE)
        assert risk is not None and risk.activity_ids == (32,)

    def test_uncertainty_does_not_fire_without_its_phrases(self) -> None:
        assert buyer_uncertainty([reply(31, 1, "Sounds great, send the contract.")], ZONE) is None


class TestNoReply:
    def test_fires_on_emails_unanswered_for_a_week(self) -> None:
        engagements = [email_sent(42, 2), email_sent(41, 8), reply(40, 10), email_sent(39, 11)]
        risk = no_reply(engagements, NOW, ZONE)
        assert risk is not None and risk.kind == RiskKind.NO_REPLY
        assert risk.activity_ids == (42, 41) and "2 emails since 2026-06-07 (8 days)" in risk.text

    def test_does_not_fire_when_the_buyer_answered(self) -> None:
        assert no_reply([reply(43, 1), email_sent(42, 9)], NOW, ZONE) is None
        assert no_reply([call(44, 1, "connected"), email_sent(42, 9)], NOW, ZONE) is None

    def test_does_not_fire_within_the_week(self) -> None:
        assert no_reply([email_sent(42, 6)], NOW, ZONE) is None

    def test_does_not_fire_without_emails(self) -> None:
        assert no_reply([note(1, 30, "x")], NOW, ZONE) is None


class TestFallingScore:
    def score(self) -> DealScore:
        return score_deal(
            [note(50, 20, "x")], now=NOW, today=TODAY, follow_up_scheduled=False, close_date=None
        )

    def test_fires_below_the_recent_peak_citing_it(self) -> None:
        score = self.score()
        history = [ScorePoint(7, TODAY - timedelta(days=12), 80), ScorePoint(8, TODAY, 90)]
        risk = falling_score(score, history, TODAY)
        assert risk is not None and risk.kind == RiskKind.FALLING_SCORE
        assert risk.evidence[0] == Evidence(EvidenceKind.DEAL_SCORE, 7)
        assert risk.activity_ids == (50,)
        assert f"fell from 80 on {TODAY - timedelta(days=12)} to {score.value}" in risk.text
        assert "nothing is scheduled" in risk.text

    def test_does_not_fire_on_a_small_drop_or_an_old_peak(self) -> None:
        score = self.score()
        assert (
            falling_score(score, [ScorePoint(7, TODAY - timedelta(1), score.value + 14)], TODAY)
            is None
        )
        old = [ScorePoint(7, TODAY - timedelta(days=31), 100)]
        assert falling_score(score, old, TODAY) is None
        assert falling_score(score, [], TODAY) is None


def test_citations_name_every_kind_of_evidence() -> None:
    evidence = [
        Evidence(EvidenceKind.ACTIVITY, 3),
        Evidence(EvidenceKind.ACTIVITY, 4),
        Evidence(EvidenceKind.STAGE_CHANGE, 9),
    ]
    assert cite(evidence) == "[activities 3, 4; stage change 9]"
    assert cite([]) == "[no activities]"
