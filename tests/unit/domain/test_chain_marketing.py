"""The marketing actions' rules (ACT-2): what a dry run says and which records each names."""

from datetime import UTC, datetime

from domain.chains import (
    ChainContext,
    EffectAction,
    RecordKind,
    Reference,
    assign_ids,
    parse_actions,
    plan_steps,
)

NOW = datetime(2030, 1, 1, 9, tzinfo=UTC)
RAW = [
    {"type": "enroll_in_sequence", "config": {"sequence_id": 4, "user_id": 9}},
    {"type": "unenroll_from_sequence", "config": {"sequence_id": 4}},
    {"type": "add_to_list", "config": {"list_id": 5}},
    {"type": "remove_from_list", "config": {"list_id": 5}},
]


def test_a_lead_with_a_contact_is_enrolled_and_listed() -> None:
    steps = plan_steps(parse_actions(assign_ids(RAW)), ChainContext(lead={"contact_id": 2}), NOW)
    assert [s.summary for s in steps] == [
        "enroll contact 2 in sequence 4",
        "unenroll contact 2 from sequence 4",
        "add contact 2 to list 5",
        "remove contact 2 from list 5",
    ]
    assert steps[0].reason == "sender set on the action"


def test_a_lead_without_a_contact_would_be_skipped() -> None:
    steps = plan_steps(parse_actions(assign_ids(RAW)), ChainContext(), NOW)
    assert {s.summary for s in steps} == {"skip: the lead has no contact"}


def test_each_action_names_the_records_it_needs() -> None:
    enroll, _, add, _ = parse_actions(assign_ids(RAW))
    assert isinstance(enroll, EffectAction) and isinstance(add, EffectAction)
    assert enroll.references() == (
        Reference("sequence_id", RecordKind.SEQUENCE, 4),
        Reference("user_id", RecordKind.USER, 9),
    )
    assert add.references() == (Reference("list_id", RecordKind.CONTACT_LIST, 5),)


def test_a_chain_saved_before_these_types_still_parses() -> None:
    stored = [
        {"id": "a_00000001", "type": "create_task", "config": {"title": "Call"}},
        {
            "id": "a_00000002",
            "type": "set_property",
            "config": {"property": "lead.label", "value": "hot"},
        },
    ]
    assert [a.type for a in parse_actions(stored)] == ["create_task", "set_property"]
