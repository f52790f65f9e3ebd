from domain.leads import (
    TRANSITION_KEY_LENGTH,
    LeadSnapshot,
    MoveCause,
    event_transition_key,
    workflow_id_for,
)


def test_workflow_id_is_derived_from_the_lead_id() -> None:
    assert workflow_id_for(42) == "lead-42"


def test_automation_causes_name_their_rule() -> None:
    assert MoveCause.automation("advance_on_outreach") == "automation:advance_on_outreach"


def test_a_snapshot_in_a_qualified_or_disqualified_stage_is_closed() -> None:
    base = {
        "lead_id": 1,
        "name": "L",
        "pipeline_id": 1,
        "pipeline_label": "P",
        "is_default_pipeline": True,
        "stage_id": 1,
        "stage_label": "S",
    }
    assert LeadSnapshot(**base, stage_kind="qualified").is_closed
    assert LeadSnapshot(**base, stage_kind="disqualified").is_closed
    assert not LeadSnapshot(**base, stage_kind="open").is_closed


class TestEventTransitionKey:
    def test_a_move_on_an_event_is_keyed_by_the_event(self) -> None:
        assert event_transition_key("lead-3", "ev-1") == "lead-3/event/ev-1"
        assert event_transition_key("lead-3", "ev-2", "ev-1") == "lead-3/event/ev-2/after/ev-1"

    def test_a_key_too_long_for_its_column_becomes_a_digest(self) -> None:
        longest = "x" * 200  # the longest event id the API takes
        keys = {
            event_transition_key("lead-3", longest),
            event_transition_key("lead-3", longest, "a"),
        }
        assert len(keys) == 2
        assert all(len(k) <= TRANSITION_KEY_LENGTH for k in keys)
