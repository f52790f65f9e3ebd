"""Deal insights as a whole: recent activity, buyer goals in the buyer's words, and one plain
text in which every line cites its evidence (DEAL-7, DEAL-10)."""

import re

from domain.deal_risks import RiskKind
from domain.deal_score import score_deal
from domain.engagements import Engagement
from domain.insights import Insights, build_insights, buyer_goals
from tests.unit.domain.fixtures_deals import (
    NOW,
    TODAY,
    ZONE,
    call,
    email_sent,
    facts,
    meeting,
    note,
    reply,
)


def insights(engagements: list[Engagement], **changes: object) -> Insights:
    f = facts(**changes)
    score = score_deal(
        engagements,
        now=NOW,
        today=TODAY,
        follow_up_scheduled=f.follow_up is not None,
        close_date=f.close_date,
    )
    return build_insights(
        f, engagements, score, [], now=NOW, today=TODAY, score_day=TODAY, time_zone=ZONE
    )


class TestBuyerGoals:
    def test_goals_come_from_the_buyers_replies_sentence_by_sentence(self) -> None:
        goals = buyer_goals(
            [
                reply(9, 1, "Thanks! We need onboarding done before July. Talk soon."),
                reply(8, 3, "Our goal is to halve support tickets.\n> We need a demo (you wrote)"),
            ]
        )
        assert [(g.text, g.activity_ids) for g in goals] == [
            ("We need onboarding done before July.", (9,)),
            ("Our goal is to halve support tickets.", (8,)),
        ]

    def test_the_reps_own_emails_are_not_the_buyers_words(self) -> None:
        assert buyer_goals([email_sent(9, 1, "I think we need a bigger plan.")]) == ()

    def test_notes_give_only_what_they_quote_from_the_buyer(self) -> None:
        goals = buyer_goals(
            [
                note(7, 2, 'Jo said: "We want every rep on the new tool by Q4." I doubt it.'),
                note(6, 3, "We need to send pricing."),
                meeting(5, 4, notes="CFO: “Our priority is cutting churn.”"),
            ]
        )
        assert [(g.text, g.activity_ids) for g in goals] == [
            ("We want every rep on the new tool by Q4.", (7,)),
            ("Our priority is cutting churn.", (5,)),
        ]

    def test_a_goal_said_twice_is_one_goal_citing_both(self) -> None:
        goals = buyer_goals([reply(9, 1, "We need SSO."), reply(4, 9, "we need SSO.")])
        assert [(g.text, g.activity_ids) for g in goals] == [("We need SSO.", (9, 4))]


class TestTheWhole:
    def test_recent_activity_is_the_five_newest_with_their_ids(self) -> None:
        engagements = [call(6 - i, i, "connected") for i in range(6)]
        result = insights(engagements)
        assert [r.activity_id for r in result.recent] == [6, 5, 4, 3, 2]
        assert result.recent[0].summary == "Call, outcome connected"
        assert result.based_on == 6

    def test_every_line_of_the_text_cites_its_evidence(self) -> None:
        engagements = [
            reply(12, 1, "We need SSO. Honestly we are not sure about the timing."),
            email_sent(11, 9, "After the budget cut, shall we start smaller?"),
            meeting(10, 12),
        ]
        result = insights(engagements, follow_up=None)
        assert {r.kind for r in result.risks} == {
            RiskKind.NO_FOLLOW_UP,
            RiskKind.BUDGET,
            RiskKind.BUYER_UNCERTAINTY,
        }
        claims = [line for line in result.text.splitlines() if line.startswith("- ")]
        assert len(claims) == 3 + 3 + 1
        assert all(
            re.search(r"\[(activit(y|ies) [\d, ]+|no activities)[^\]]*\]$", c) for c in claims
        )
        assert '- "We need SSO." [activity 12]' in result.text
        assert "Budget language in the email sent on 2026-06-06" in result.text

    def test_a_deal_with_nothing_to_see_says_so(self) -> None:
        result = insights([])
        assert result.risks == () and result.goals == () and result.recent == ()
        assert "- No meetings, notes, emails or calls you may see. [no activities]" in result.text
        assert "- None found in what you may see. [no activities]" in result.text

    def test_the_same_facts_give_the_same_insights(self) -> None:
        engagements = [reply(12, 1, "We need SSO."), email_sent(11, 9, "Budget cut?")]
        assert insights(engagements) == insights(engagements)

    def test_insights_hold_only_what_they_are_given_deal_8(self) -> None:
        """Rep B's view lacks rep A's email: no budget risk, no trace of it anywhere."""
        reps_a_email = email_sent(21, 1, "Sorry about the budget cut: shall we resize the deal?")
        own = [call(20, 2, "connected")]
        seen_by_a = insights([reps_a_email, *own])
        seen_by_b = insights(own)
        assert RiskKind.BUDGET in {r.kind for r in seen_by_a.risks}
        assert RiskKind.BUDGET not in {r.kind for r in seen_by_b.risks}
        assert not re.search(r"\b21\b", seen_by_b.text) and "budget" not in seen_by_b.text.lower()
