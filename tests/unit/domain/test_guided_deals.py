"""The deal-based guided actions (GA-25, GA-26, GA-27, GA-28): creation delays to the minute,
the 7-day windows counted from the item's creation (GA-9), and each expiry condition."""

from dataclasses import replace
from typing import Any

import pytest

from domain.guided import DealSnapshot, GuidedType
from tests.unit.domain.fixtures_guided import (
    DAY,
    HOUR,
    MINUTE,
    NOW,
    OWNER,
    ago,
    blocked_for_good,
    holds,
    verdict,
)

T = GuidedType
CREATED = ago(30 * DAY)


class TestUpdateNextSteps:
    """GA-25."""

    ended = ago(2 * DAY)
    deal = DealSnapshot(
        deal_id=1,
        owner_id=OWNER,
        created_at=CREATED,
        stage_kind="open",
        stage_entered_at=CREATED,
        last_engagement_end_at=ended,
        next_steps_changed_at=ago(10 * DAY),
    )

    def test_created_with_no_window(self) -> None:
        v = verdict(T.UPDATE_NEXT_STEPS, self.deal)
        assert (v.user_id, v.holds, v.wake_at, v.expires_at) == (OWNER, True, None, None)

    def test_not_a_minute_before_24_hours_after_the_engagement_ended(self) -> None:
        early = verdict(T.UPDATE_NEXT_STEPS, self.deal, self.ended + 24 * HOUR - MINUTE)
        assert (early.holds, early.wake_at) == (False, self.ended + 24 * HOUR)
        assert holds(T.UPDATE_NEXT_STEPS, self.deal, self.ended + 24 * HOUR)

    def test_a_meeting_ahead_waits_until_a_day_after_it_ends(self) -> None:
        ahead = replace(self.deal, last_engagement_end_at=NOW + HOUR)
        assert verdict(T.UPDATE_NEXT_STEPS, ahead).wake_at == NOW + 25 * HOUR

    @pytest.mark.parametrize(
        "change",
        [
            {"owner_id": None},
            {"stage_kind": "won"},
            {"stage_kind": "lost"},
            {"last_engagement_end_at": None},
            {"next_steps_changed_at": ago(DAY)},
            {"stage_entered_at": ago(DAY)},
        ],
        ids=["unassigned", "won", "lost", "no-engagement", "next-steps-changed", "moved"],
    )
    def test_each_criterion_failing_alone_blocks_it(self, change: dict[str, Any]) -> None:
        assert blocked_for_good(verdict(T.UPDATE_NEXT_STEPS, replace(self.deal, **change)))

    @pytest.mark.parametrize(
        "change",
        [{"stage_entered_at": ago(MINUTE)}, {"next_steps_changed_at": ago(MINUTE)}],
        ids=["stage-changed", "next-steps-changed"],
    )
    def test_a_change_after_creation_ends_it(self, change: dict[str, Any]) -> None:
        changed = replace(self.deal, **change)
        assert not holds(T.UPDATE_NEXT_STEPS, changed, item_created_at=ago(HOUR))

    def test_a_later_engagement_brings_it_back_after_a_stage_change(self) -> None:
        moved = replace(self.deal, stage_entered_at=ago(DAY), last_engagement_end_at=ago(HOUR))
        assert verdict(T.UPDATE_NEXT_STEPS, moved).wake_at == ago(HOUR) + 24 * HOUR


class TestAddContactToDeal:
    """GA-26."""

    deal = DealSnapshot(
        deal_id=1, owner_id=OWNER, created_at=CREATED, stage_kind="open", stage_entered_at=CREATED
    )

    def test_created_with_a_7_day_window(self) -> None:
        v = verdict(T.ADD_CONTACT_TO_DEAL, self.deal)
        assert (v.user_id, v.holds, v.expires_at) == (OWNER, True, NOW + 7 * DAY)

    def test_not_a_minute_before_the_deal_is_7_days_old(self) -> None:
        young = replace(self.deal, created_at=ago(DAY), stage_entered_at=ago(DAY))
        opens = ago(DAY) + 7 * DAY
        early = verdict(T.ADD_CONTACT_TO_DEAL, young, opens - MINUTE)
        assert (early.holds, early.wake_at) == (False, opens)
        created = verdict(T.ADD_CONTACT_TO_DEAL, young, opens)
        assert (created.holds, created.expires_at) == (True, opens + 7 * DAY)

    @pytest.mark.parametrize(
        "change",
        [{"owner_id": None}, {"stage_kind": "won"}, {"stage_kind": "lost"}, {"contact_id": 5}],
        ids=["unassigned", "won", "lost", "has-contact"],
    )
    def test_each_criterion_failing_alone_blocks_it(self, change: dict[str, Any]) -> None:
        assert blocked_for_good(verdict(T.ADD_CONTACT_TO_DEAL, replace(self.deal, **change)))

    def test_a_stage_change_after_creation_ends_it(self) -> None:
        moved = replace(self.deal, stage_entered_at=ago(MINUTE))
        assert not holds(T.ADD_CONTACT_TO_DEAL, moved, item_created_at=ago(HOUR))

    def test_a_contact_associated_ends_it(self) -> None:
        linked = replace(self.deal, contact_id=5)
        assert not holds(T.ADD_CONTACT_TO_DEAL, linked, item_created_at=ago(HOUR))

    def test_more_than_7_days_after_creation_ends_it(self) -> None:
        created = ago(HOUR)
        end = created + 7 * DAY
        assert holds(T.ADD_CONTACT_TO_DEAL, self.deal, end - MINUTE, created)
        assert blocked_for_good(verdict(T.ADD_CONTACT_TO_DEAL, self.deal, end, created))


class TestInitialOutreachNeeded:
    """GA-27."""

    deal = DealSnapshot(
        deal_id=1,
        owner_id=OWNER,
        created_at=CREATED,
        stage_kind="open",
        stage_entered_at=CREATED,
        is_first_stage=True,
    )

    def test_created_with_a_7_day_window(self) -> None:
        v = verdict(T.INITIAL_OUTREACH_NEEDED, self.deal)
        assert (v.user_id, v.holds, v.expires_at) == (OWNER, True, NOW + 7 * DAY)

    def test_not_a_minute_before_the_deal_is_7_days_old(self) -> None:
        young = replace(self.deal, created_at=ago(DAY), stage_entered_at=ago(DAY))
        opens = ago(DAY) + 7 * DAY
        assert verdict(T.INITIAL_OUTREACH_NEEDED, young, opens - MINUTE).wake_at == opens
        assert not holds(T.INITIAL_OUTREACH_NEEDED, young, opens - MINUTE)
        assert holds(T.INITIAL_OUTREACH_NEEDED, young, opens)

    @pytest.mark.parametrize(
        "change",
        [
            {"owner_id": None},
            {"is_first_stage": False},
            {"stage_kind": "won"},
            {"stage_kind": "lost"},
            {"last_engagement_end_at": ago(DAY)},
        ],
        ids=["unassigned", "later-stage", "won", "lost", "engaged"],
    )
    def test_each_criterion_failing_alone_blocks_it(self, change: dict[str, Any]) -> None:
        assert blocked_for_good(verdict(T.INITIAL_OUTREACH_NEEDED, replace(self.deal, **change)))

    def test_a_stage_change_after_creation_ends_it(self) -> None:
        moved = replace(self.deal, stage_entered_at=ago(MINUTE))
        assert not holds(T.INITIAL_OUTREACH_NEEDED, moved, item_created_at=ago(HOUR))

    def test_an_engagement_associated_ends_it(self) -> None:
        engaged = replace(self.deal, last_engagement_end_at=ago(MINUTE))
        assert not holds(T.INITIAL_OUTREACH_NEEDED, engaged, item_created_at=ago(HOUR))

    def test_more_than_7_days_after_creation_ends_it(self) -> None:
        created = ago(HOUR)
        end = created + 7 * DAY
        assert holds(T.INITIAL_OUTREACH_NEEDED, self.deal, end - MINUTE, created)
        assert blocked_for_good(verdict(T.INITIAL_OUTREACH_NEEDED, self.deal, end, created))


class TestBuyerFollowUp:
    """GA-28."""

    opened = ago(8 * DAY)
    deal = DealSnapshot(
        deal_id=1,
        owner_id=OWNER,
        created_at=CREATED,
        stage_kind="open",
        stage_entered_at=CREATED,
        contact_id=5,
        contact_last_open_at=opened,
        contact_last_reply_at=ago(20 * DAY),
    )

    def test_created_with_a_7_day_window(self) -> None:
        v = verdict(T.BUYER_FOLLOW_UP, self.deal)
        assert (v.user_id, v.holds, v.expires_at) == (OWNER, True, NOW + 7 * DAY)

    def test_not_a_minute_before_7_days_without_a_reply(self) -> None:
        opens = self.opened + 7 * DAY
        early = verdict(T.BUYER_FOLLOW_UP, self.deal, opens - MINUTE)
        assert (early.holds, early.wake_at) == (False, opens)
        assert holds(T.BUYER_FOLLOW_UP, self.deal, opens)

    @pytest.mark.parametrize(
        "change",
        [
            {"owner_id": None},
            {"stage_kind": "won"},
            {"contact_id": None},
            {"contact_last_open_at": None},
            {"contact_last_reply_at": ago(7 * DAY)},
        ],
        ids=["unassigned", "closed", "no-contact", "never-opened", "replied"],
    )
    def test_each_criterion_failing_alone_blocks_it(self, change: dict[str, Any]) -> None:
        assert blocked_for_good(verdict(T.BUYER_FOLLOW_UP, replace(self.deal, **change)))

    def test_the_contact_replying_ends_it(self) -> None:
        replied = replace(self.deal, contact_last_reply_at=ago(MINUTE))
        assert not holds(T.BUYER_FOLLOW_UP, replied, item_created_at=ago(HOUR))

    def test_more_than_7_days_after_creation_ends_it(self) -> None:
        created = ago(HOUR)
        end = created + 7 * DAY
        assert holds(T.BUYER_FOLLOW_UP, self.deal, end - MINUTE, created)
        assert blocked_for_good(verdict(T.BUYER_FOLLOW_UP, self.deal, end, created))
