"""The contact-based guided actions, one group per type (GA-10, GA-12, GA-14, GA-18, GA-19,
GA-23): created only when every criterion holds, ended by each expiry condition and window."""

from dataclasses import replace
from typing import Any

import pytest

from domain.guided import ContactSnapshot, GuidedType
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


class TestNewlyAssignedContacts:
    """GA-10."""

    contact = ContactSnapshot(contact_id=1, owner_id=OWNER, lifecycle_stage="lead")

    def test_created_for_the_owner_with_a_30_day_window(self) -> None:
        v = verdict(T.NEWLY_ASSIGNED_CONTACTS, self.contact)
        assert (v.user_id, v.holds) == (OWNER, True)
        assert v.expires_at == NOW + 30 * DAY
        assert v.wake_at == NOW + 30 * DAY

    @pytest.mark.parametrize(
        "change",
        [
            {"owner_id": None},
            {"lifecycle_stage": "customer"},
            {"lifecycle_stage": "evangelist"},
            {"has_deal": True},
            {"last_owner_email_sent_at": ago(DAY)},
            {"last_reply_at": ago(DAY)},
        ],
        ids=["unassigned", "customer", "evangelist", "deal", "owner-emailed", "contact-emailed"],
    )
    def test_each_criterion_failing_alone_blocks_or_ends_it(self, change: dict[str, Any]) -> None:
        failing = replace(self.contact, **change)
        assert blocked_for_good(verdict(T.NEWLY_ASSIGNED_CONTACTS, failing))
        assert not holds(T.NEWLY_ASSIGNED_CONTACTS, failing, item_created_at=ago(DAY))

    def test_a_contact_with_no_lifecycle_stage_counts(self) -> None:
        assert holds(T.NEWLY_ASSIGNED_CONTACTS, replace(self.contact, lifecycle_stage=None))

    def test_another_users_email_is_not_the_owners(self) -> None:
        assert holds(T.NEWLY_ASSIGNED_CONTACTS, replace(self.contact, last_email_sent_at=ago(DAY)))

    def test_the_window_runs_30_days_from_the_items_creation_ga_9(self) -> None:
        created = ago(10 * DAY)
        end = created + 30 * DAY
        v = verdict(T.NEWLY_ASSIGNED_CONTACTS, self.contact, item_created_at=created)
        assert (v.holds, v.expires_at, v.wake_at) == (True, end, end)
        assert holds(T.NEWLY_ASSIGNED_CONTACTS, self.contact, end - MINUTE, created)
        assert blocked_for_good(verdict(T.NEWLY_ASSIGNED_CONTACTS, self.contact, end, created))


class TestReEngagedContacts:
    """GA-12."""

    engaged = ago(2 * DAY)
    contact = ContactSnapshot(
        contact_id=1,
        owner_id=OWNER,
        latest_lead_disqualified_at=ago(10 * DAY),
        last_engaged_at=engaged,
    )

    def test_created_until_30_days_after_the_re_engagement(self) -> None:
        v = verdict(T.RE_ENGAGED_CONTACTS, self.contact)
        assert (v.user_id, v.holds) == (OWNER, True)
        assert v.wake_at == v.expires_at == self.engaged + 30 * DAY

    @pytest.mark.parametrize(
        "change",
        [
            {"owner_id": None},
            {"has_open_lead": True},
            {"latest_lead_disqualified_at": None},
            {"last_engaged_at": None},
            {"last_engaged_at": ago(11 * DAY)},
        ],
        ids=["unassigned", "open-lead", "not-disqualified", "never-engaged", "engaged-before"],
    )
    def test_each_criterion_failing_alone_blocks_it(self, change: dict[str, Any]) -> None:
        assert blocked_for_good(verdict(T.RE_ENGAGED_CONTACTS, replace(self.contact, **change)))

    def test_more_than_30_days_since_re_engagement_ends_it(self) -> None:
        end = self.engaged + 30 * DAY
        assert holds(T.RE_ENGAGED_CONTACTS, self.contact, end - MINUTE, ago(DAY))
        assert blocked_for_good(verdict(T.RE_ENGAGED_CONTACTS, self.contact, end, ago(DAY)))

    def test_a_re_engagement_older_than_30_days_creates_nothing(self) -> None:
        old = replace(
            self.contact,
            latest_lead_disqualified_at=ago(60 * DAY),
            last_engaged_at=ago(31 * DAY),
        )
        assert blocked_for_good(verdict(T.RE_ENGAGED_CONTACTS, old))

    def test_reassigned_it_is_the_new_owners(self) -> None:
        v = verdict(T.RE_ENGAGED_CONTACTS, replace(self.contact, owner_id=OTHER_USER))
        assert v.user_id == OTHER_USER


class TestEmailReplies:
    """GA-14."""

    contact = ContactSnapshot(
        contact_id=1, owner_id=OWNER, last_email_sent_at=ago(2 * DAY), last_reply_at=ago(HOUR)
    )

    def test_created_with_a_14_day_window(self) -> None:
        v = verdict(T.EMAIL_REPLIES, self.contact)
        assert (v.user_id, v.holds, v.expires_at) == (OWNER, True, NOW + 14 * DAY)

    @pytest.mark.parametrize(
        "change",
        [{"owner_id": None}, {"last_reply_at": None}, {"last_email_sent_at": ago(MINUTE)}],
        ids=["unassigned", "no-reply", "answered"],
    )
    def test_each_criterion_failing_alone_blocks_it(self, change: dict[str, Any]) -> None:
        assert blocked_for_good(verdict(T.EMAIL_REPLIES, replace(self.contact, **change)))

    def test_an_email_sent_after_creation_ends_it(self) -> None:
        created = ago(30 * MINUTE)
        assert holds(T.EMAIL_REPLIES, self.contact, item_created_at=created)
        sent = replace(self.contact, last_email_sent_at=created)
        assert not holds(T.EMAIL_REPLIES, sent, item_created_at=created)

    def test_14_days_after_creation_ends_it(self) -> None:
        created = ago(HOUR)
        end = created + 14 * DAY
        assert holds(T.EMAIL_REPLIES, self.contact, end - MINUTE, created)
        assert blocked_for_good(verdict(T.EMAIL_REPLIES, self.contact, end, created))


class TestContactsAwaitingReply:
    """GA-18."""

    contact = ContactSnapshot(
        contact_id=1,
        owner_id=OWNER,
        email_domain="buyer.example",
        owner_email_domain="leadpipe.example",
        last_owner_email_sent_at=ago(3 * DAY),
        last_reply_to_owner_at=ago(HOUR),
    )

    def test_created_with_a_14_day_window(self) -> None:
        v = verdict(T.CONTACTS_AWAITING_REPLY, self.contact)
        assert (v.user_id, v.holds, v.expires_at) == (OWNER, True, NOW + 14 * DAY)

    @pytest.mark.parametrize(
        "change",
        [
            {"owner_id": None},
            {"has_open_lead": True},
            {"last_reply_to_owner_at": None},
            {"email_domain": "leadpipe.example"},
            {"last_owner_email_sent_at": ago(MINUTE)},
        ],
        ids=["unassigned", "open-lead", "no-reply-to-owner", "same-domain", "owner-answered"],
    )
    def test_each_criterion_failing_alone_blocks_it(self, change: dict[str, Any]) -> None:
        assert blocked_for_good(verdict(T.CONTACTS_AWAITING_REPLY, replace(self.contact, **change)))

    def test_a_contact_of_unknown_domain_is_not_the_users_domain(self) -> None:
        assert holds(T.CONTACTS_AWAITING_REPLY, replace(self.contact, email_domain=None))

    def test_the_owner_emailing_the_contact_ends_it(self) -> None:
        created = ago(30 * MINUTE)
        emailed = replace(self.contact, last_owner_email_sent_at=ago(MINUTE))
        assert not holds(T.CONTACTS_AWAITING_REPLY, emailed, item_created_at=created)

    def test_reassigned_it_is_the_new_owners(self) -> None:
        assert (
            verdict(T.CONTACTS_AWAITING_REPLY, replace(self.contact, owner_id=OTHER_USER)).user_id
            == OTHER_USER
        )

    def test_created_more_than_14_days_ago_ends_it(self) -> None:
        created = ago(HOUR)
        end = created + 14 * DAY
        assert holds(T.CONTACTS_AWAITING_REPLY, self.contact, end - MINUTE, created)
        assert blocked_for_good(verdict(T.CONTACTS_AWAITING_REPLY, self.contact, end, created))


class TestReplyToEmail:
    """GA-19."""

    contact = ContactSnapshot(
        contact_id=1,
        owner_id=OTHER_USER,
        last_reply_at=ago(HOUR),
        last_reply_user_id=OWNER,
        reply_user_last_email_sent_at=ago(2 * DAY),
        open_deal_owner_ids=frozenset({OWNER}),
    )

    def test_created_for_the_deal_owner_the_contact_replied_to(self) -> None:
        v = verdict(T.REPLY_TO_EMAIL, self.contact)
        assert (v.user_id, v.holds, v.expires_at) == (OWNER, True, NOW + 7 * DAY)

    @pytest.mark.parametrize(
        "change",
        [
            {"last_reply_user_id": None},
            {"open_deal_owner_ids": frozenset({OTHER_USER})},
            {"open_deal_owner_ids": frozenset()},
            {"last_reply_at": None},
            {"reply_user_last_email_sent_at": ago(MINUTE)},
        ],
        ids=["replied-to-nobody", "not-their-deal", "deal-closed", "no-reply", "user-replied"],
    )
    def test_each_criterion_failing_alone_blocks_or_ends_it(self, change: dict[str, Any]) -> None:
        failing = replace(self.contact, **change)
        assert not verdict(T.REPLY_TO_EMAIL, failing).holds
        assert not holds(T.REPLY_TO_EMAIL, failing, item_created_at=ago(30 * MINUTE))

    def test_more_than_7_days_after_creation_ends_it(self) -> None:
        created = ago(HOUR)
        end = created + 7 * DAY
        assert holds(T.REPLY_TO_EMAIL, self.contact, end - MINUTE, created)
        assert blocked_for_good(verdict(T.REPLY_TO_EMAIL, self.contact, end, created))


class TestTargetAccountActivity:
    """GA-23."""

    engaged = ago(DAY)
    contact = ContactSnapshot(
        contact_id=1, owner_id=OWNER, is_target_account=True, last_engaged_at=engaged
    )

    def test_created_until_7_days_after_the_engagement(self) -> None:
        v = verdict(T.TARGET_ACCOUNT_ACTIVITY, self.contact)
        assert (v.user_id, v.holds) == (OWNER, True)
        assert v.wake_at == v.expires_at == self.engaged + 7 * DAY

    @pytest.mark.parametrize(
        "change",
        [
            {"owner_id": None},
            {"is_target_account": False},
            {"last_engaged_at": None},
            {"last_engaged_at": ago(7 * DAY)},
        ],
        ids=["unassigned", "not-target", "never-engaged", "engaged-7-days-ago"],
    )
    def test_each_criterion_failing_alone_blocks_it(self, change: dict[str, Any]) -> None:
        assert blocked_for_good(verdict(T.TARGET_ACCOUNT_ACTIVITY, replace(self.contact, **change)))

    def test_more_than_7_days_since_the_engagement_ends_it(self) -> None:
        end = self.engaged + 7 * DAY
        assert holds(T.TARGET_ACCOUNT_ACTIVITY, self.contact, end - MINUTE, ago(HOUR))
        assert blocked_for_good(verdict(T.TARGET_ACCOUNT_ACTIVITY, self.contact, end, ago(HOUR)))
