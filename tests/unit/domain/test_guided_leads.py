"""The lead-based guided actions (GA-11, GA-20, GA-24)."""

from dataclasses import replace
from typing import Any

import pytest

from domain.guided import GuidedType, LeadSnapshot
from tests.unit.domain.fixtures_guided import (
    DAY,
    HOUR,
    MINUTE,
    NOW,
    OTHER_USER,
    OWNER,
    ago,
    blocked_for_good,
    holds,
    verdict,
)

T = GuidedType


class TestNewlyAssignedLeads:
    """GA-11."""

    lead = LeadSnapshot(lead_id=1, owner_id=OWNER, stage_kind="open", is_first_stage=True)

    def test_created_for_the_owner_with_a_30_day_window(self) -> None:
        v = verdict(T.NEWLY_ASSIGNED_LEADS, self.lead)
        assert (v.user_id, v.holds, v.expires_at, v.wake_at) == (
            OWNER,
            True,
            NOW + 30 * DAY,
            NOW + 30 * DAY,
        )

    @pytest.mark.parametrize(
        "change",
        [{"owner_id": None}, {"is_first_stage": False}, {"last_owner_activity_at": ago(DAY)}],
        ids=["no-owner", "later-stage", "owner-worked-it"],
    )
    def test_each_criterion_failing_alone_blocks_it(self, change: dict[str, Any]) -> None:
        assert blocked_for_good(verdict(T.NEWLY_ASSIGNED_LEADS, replace(self.lead, **change)))

    def test_the_owner_logging_an_activity_ends_it(self) -> None:
        created = ago(DAY)
        worked = replace(self.lead, last_owner_activity_at=ago(MINUTE))
        assert not holds(T.NEWLY_ASSIGNED_LEADS, worked, item_created_at=created)

    def test_reassigned_it_is_the_new_owners(self) -> None:
        v = verdict(T.NEWLY_ASSIGNED_LEADS, replace(self.lead, owner_id=OTHER_USER))
        assert v.user_id == OTHER_USER

    def test_30_days_after_creation_ends_it(self) -> None:
        created = ago(DAY)
        end = created + 30 * DAY
        assert holds(T.NEWLY_ASSIGNED_LEADS, self.lead, end - MINUTE, created)
        assert blocked_for_good(verdict(T.NEWLY_ASSIGNED_LEADS, self.lead, end, created))


class TestLeadsAwaitingReply:
    """GA-20."""

    lead = LeadSnapshot(
        lead_id=1,
        owner_id=OWNER,
        stage_kind="open",
        email_domain="buyer.example",
        owner_email_domain="leadpipe.example",
        last_owner_email_sent_at=ago(2 * DAY),
        last_reply_to_owner_at=ago(HOUR),
    )

    def test_created_with_a_14_day_window(self) -> None:
        v = verdict(T.LEADS_AWAITING_REPLY, self.lead)
        assert (v.user_id, v.holds, v.expires_at) == (OWNER, True, NOW + 14 * DAY)

    @pytest.mark.parametrize(
        "change",
        [
            {"owner_id": None},
            {"last_reply_to_owner_at": None},
            {"email_domain": "leadpipe.example"},
            {"last_owner_email_sent_at": ago(MINUTE)},
        ],
        ids=["no-owner", "no-reply", "same-domain", "owner-answered"],
    )
    def test_each_criterion_failing_alone_blocks_it(self, change: dict[str, Any]) -> None:
        assert blocked_for_good(verdict(T.LEADS_AWAITING_REPLY, replace(self.lead, **change)))

    def test_the_owner_emailing_the_lead_ends_it(self) -> None:
        created = ago(30 * MINUTE)
        assert holds(T.LEADS_AWAITING_REPLY, self.lead, item_created_at=created)
        emailed = replace(self.lead, last_owner_email_sent_at=created)
        assert not holds(T.LEADS_AWAITING_REPLY, emailed, item_created_at=created)

    def test_created_more_than_14_days_ago_ends_it(self) -> None:
        created = ago(HOUR)
        end = created + 14 * DAY
        assert holds(T.LEADS_AWAITING_REPLY, self.lead, end - MINUTE, created)
        assert blocked_for_good(verdict(T.LEADS_AWAITING_REPLY, self.lead, end, created))


class TestRecentlyEngagedLeads:
    """GA-24."""

    engaged = ago(DAY)
    lead = LeadSnapshot(lead_id=1, owner_id=OWNER, stage_kind="open", last_engaged_at=engaged)

    def test_created_until_7_days_after_the_engagement(self) -> None:
        v = verdict(T.RECENTLY_ENGAGED_LEADS, self.lead)
        assert (v.user_id, v.holds) == (OWNER, True)
        assert v.wake_at == v.expires_at == self.engaged + 7 * DAY

    @pytest.mark.parametrize(
        "change",
        [
            {"owner_id": None},
            {"stage_kind": "qualified"},
            {"stage_kind": "disqualified"},
            {"last_engaged_at": None},
            {"last_engaged_at": ago(7 * DAY)},
        ],
        ids=["no-owner", "qualified", "disqualified", "never-engaged", "engaged-7-days-ago"],
    )
    def test_each_criterion_failing_alone_blocks_it(self, change: dict[str, Any]) -> None:
        assert blocked_for_good(verdict(T.RECENTLY_ENGAGED_LEADS, replace(self.lead, **change)))

    def test_more_than_7_days_since_the_engagement_ends_it(self) -> None:
        end = self.engaged + 7 * DAY
        assert holds(T.RECENTLY_ENGAGED_LEADS, self.lead, end - MINUTE, ago(HOUR))
        assert blocked_for_good(verdict(T.RECENTLY_ENGAGED_LEADS, self.lead, end, ago(HOUR)))

    def test_a_new_engagement_moves_the_window(self) -> None:
        later = replace(self.lead, last_engaged_at=NOW)
        assert verdict(T.RECENTLY_ENGAGED_LEADS, later).expires_at == NOW + 7 * DAY
