"""The guided-action catalogue: the API's type keys, categories by the spec's table (GA-5),
the * types that keep associations (GA-4), and evaluate()'s refusal of a wrong snapshot."""

from datetime import timedelta

import pytest

from domain.guided import (
    TYPES,
    Category,
    ContactSnapshot,
    DealSnapshot,
    GuidedType,
    MeetingSnapshot,
    ObjectKind,
    evaluate,
    rearms,
    types_for,
)
from tests.unit.domain.fixtures_guided import NOW, OWNER

T = GuidedType

# API.md "Guided actions", in requirement order GA-10..GA-28.
API_KEYS = [
    "newly_assigned_contacts",
    "newly_assigned_leads",
    "re_engaged_contacts",
    "sequence_activity",
    "email_replies",
    "log_meeting_outcome",
    "meeting_follow_up",
    "log_call_outcome",
    "contacts_awaiting_reply",
    "reply_to_email",
    "leads_awaiting_reply",
    "prepare_for_meetings",
    "high_priority_tasks_due_today",
    "target_account_activity",
    "recently_engaged_leads",
    "update_next_steps",
    "add_contact_to_deal",
    "initial_outreach_needed",
    "buyer_follow_up",
]


def test_the_type_keys_are_the_apis_in_requirement_order() -> None:
    assert [t.value for t in GuidedType] == API_KEYS
    assert list(TYPES) == list(GuidedType)


def test_categories_follow_the_table_ga_5() -> None:
    closing = {t for t, info in TYPES.items() if info.category == Category.CLOSING}
    all_only = {t for t, info in TYPES.items() if info.category == Category.ALL}
    assert closing == {
        T.REPLY_TO_EMAIL,
        T.UPDATE_NEXT_STEPS,
        T.ADD_CONTACT_TO_DEAL,
        T.INITIAL_OUTREACH_NEEDED,
        T.BUYER_FOLLOW_UP,
    }
    assert all_only == {
        T.LOG_MEETING_OUTCOME,
        T.MEETING_FOLLOW_UP,
        T.LOG_CALL_OUTCOME,
        T.PREPARE_FOR_MEETINGS,
        T.HIGH_PRIORITY_TASKS_DUE_TODAY,
    }
    assert len(TYPES) - len(closing) - len(all_only) == 9  # the rest are prospecting


def test_every_type_is_in_all_and_its_own_category_only() -> None:
    for info in TYPES.values():
        assert info.in_category(Category.ALL)
        assert info.in_category(info.category)
        others = set(Category) - {Category.ALL, info.category}
        assert not any(info.in_category(c) for c in others)


def test_the_meeting_and_call_types_keep_their_associations_ga_4() -> None:
    starred = {t for t, info in TYPES.items() if info.snapshots_associations}
    assert starred == {
        T.LOG_MEETING_OUTCOME,
        T.MEETING_FOLLOW_UP,
        T.LOG_CALL_OUTCOME,
        T.PREPARE_FOR_MEETINGS,
    }
    assert all(TYPES[t].object in (ObjectKind.MEETING, ObjectKind.CALL) for t in starred)


def test_types_for_lists_each_kinds_types_once() -> None:
    assert types_for(ObjectKind.CALL) == (T.LOG_CALL_OUTCOME,)
    assert types_for(ObjectKind.TASK) == (T.SEQUENCE_ACTIVITY, T.HIGH_PRIORITY_TASKS_DUE_TODAY)
    listed = [t for kind in ObjectKind for t in types_for(kind)]
    assert sorted(listed) == sorted(GuidedType)


def test_cards_have_a_title_and_a_primary_link_ga_6() -> None:
    assert TYPES[T.LOG_MEETING_OUTCOME].title == "Log meeting outcome"
    assert TYPES[T.SEQUENCE_ACTIVITY].primary_link == "Start tasks"
    assert TYPES[T.NEWLY_ASSIGNED_CONTACTS].primary_link == "Enroll new contacts in sequence"
    assert all(info.title and info.primary_link for info in TYPES.values())


def test_record_lists_are_offered_for_records_with_pages_of_their_own_ga_7() -> None:
    assert TYPES[T.ADD_CONTACT_TO_DEAL].has_record_list
    assert not TYPES[T.LOG_CALL_OUTCOME].has_record_list


def test_a_snapshot_of_another_kind_is_refused() -> None:
    deal = DealSnapshot(
        deal_id=1, owner_id=OWNER, created_at=NOW, stage_kind="open", stage_entered_at=NOW
    )
    with pytest.raises(TypeError, match="log_meeting_outcome reads a MeetingSnapshot"):
        evaluate(T.LOG_MEETING_OUTCOME, deal, NOW)


class TestRearms:
    """An item that ran out its window does not come back while nothing changed."""

    meeting_contact = ContactSnapshot(contact_id=1, owner_id=OWNER)

    def test_an_expired_window_keeps_the_same_situation_from_coming_back(self) -> None:
        created = NOW - timedelta(days=31)
        assert not evaluate(T.NEWLY_ASSIGNED_CONTACTS, self.meeting_contact, NOW, created).holds
        assert not rearms(T.NEWLY_ASSIGNED_CONTACTS, self.meeting_contact, NOW)

    def test_once_the_criteria_fail_a_later_return_is_new(self) -> None:
        customer = ContactSnapshot(contact_id=1, owner_id=OWNER, lifecycle_stage="customer")
        assert rearms(T.NEWLY_ASSIGNED_CONTACTS, customer, NOW)

    def test_a_window_counted_from_a_named_time_rearms_by_itself(self) -> None:
        meeting = MeetingSnapshot(
            meeting_id=1,
            owner_id=OWNER,
            start_at=NOW - timedelta(days=9),
            end_at=NOW - timedelta(days=8),
        )
        assert rearms(T.LOG_MEETING_OUTCOME, meeting, NOW)
