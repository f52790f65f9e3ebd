import pytest
from pydantic import ValidationError

from domain.automation import (
    CONNECT_EVENTS,
    OUTREACH_EVENTS,
    AutomationConfig,
    FollowUpRule,
    ProgressionEvent,
    ProgressionRule,
    RuleName,
    StageRef,
    backward_rules,
    default_config,
    validate_config,
)
from domain.stages import StageKind

STAGES = [
    StageRef(id=1, kind=StageKind.OPEN),
    StageRef(id=2, kind=StageKind.OPEN),
    StageRef(id=3, kind=StageKind.OPEN),
    StageRef(id=4, kind=StageKind.QUALIFIED),
    StageRef(id=5, kind=StageKind.DISQUALIFIED),
]
TYPES = {"new_business", "re_engagement"}
REASONS = {10, 11}


def rules(**changes: object) -> list[tuple[str, str]]:
    config = default_config(STAGES).model_copy(update=changes)
    return [(e.field, e.rule) for e in validate_config(config, STAGES, TYPES, REASONS)]


class TestDefaults:
    def test_defaults_advance_new_to_attempting_to_connected(self) -> None:
        """AUT-3, AUT-4."""
        config = default_config(STAGES)
        assert config.advance_on_outreach == ProgressionRule(
            enabled=True, from_stage_id=1, to_stage_id=2, events=OUTREACH_EVENTS
        )
        assert config.advance_on_connect == ProgressionRule(
            enabled=True, from_stage_id=2, to_stage_id=3, events=CONNECT_EVENTS
        )
        assert config.follow_up_on_disqualify == FollowUpRule()
        assert validate_config(config, STAGES, TYPES, REASONS) == []

    def test_too_few_open_stages_leave_the_rule_off_without_stages(self) -> None:
        config = default_config(STAGES[1:2] + STAGES[3:])
        assert config.advance_on_outreach.enabled is False
        assert config.advance_on_outreach.from_stage_id is None
        assert config.advance_on_connect.to_stage_id is None
        assert validate_config(config, STAGES, TYPES, REASONS) == []

    def test_the_event_lists_do_not_overlap(self) -> None:
        assert not set(OUTREACH_EVENTS) & set(CONNECT_EVENTS)
        assert set(OUTREACH_EVENTS) | set(CONNECT_EVENTS) == set(ProgressionEvent)


class TestProgressionRules:
    def test_events_must_belong_to_the_rule_aut_6(self) -> None:
        """AUT-6: each rule takes a subset of its own event list."""
        outreach = ProgressionRule(
            enabled=True,
            from_stage_id=1,
            to_stage_id=2,
            events=(ProgressionEvent.EMAIL_SENT, ProgressionEvent.EMAIL_REPLY),
        )
        assert rules(advance_on_outreach=outreach) == [
            ("advance_on_outreach.events", "event_of_rule")
        ]

    def test_events_may_not_be_empty_or_repeated_aut_6(self) -> None:
        with pytest.raises(ValidationError):
            ProgressionRule(enabled=False, events=())
        twice = ProgressionRule(
            enabled=True,
            from_stage_id=2,
            to_stage_id=3,
            events=(ProgressionEvent.EMAIL_REPLY, ProgressionEvent.EMAIL_REPLY),
        )
        assert rules(advance_on_connect=twice) == [("advance_on_connect.events", "unique")]

    def test_stages_must_be_open_stages_of_the_pipeline_and_differ_aut_6(self) -> None:
        same = ProgressionRule(enabled=True, from_stage_id=2, to_stage_id=2, events=OUTREACH_EVENTS)
        assert rules(advance_on_outreach=same) == [
            ("advance_on_outreach.to_stage_id", "differs_from_from_stage")
        ]
        foreign = ProgressionRule(
            enabled=True, from_stage_id=99, to_stage_id=4, events=OUTREACH_EVENTS
        )
        assert rules(advance_on_outreach=foreign) == [
            ("advance_on_outreach.from_stage_id", "stage_in_pipeline"),
            ("advance_on_outreach.to_stage_id", "open_stage"),
        ]

    def test_an_enabled_rule_needs_both_stages_a_disabled_one_does_not_aut_1(self) -> None:
        unset = ProgressionRule(enabled=True, events=CONNECT_EVENTS)
        assert rules(advance_on_connect=unset) == [
            ("advance_on_connect.from_stage_id", "required"),
            ("advance_on_connect.to_stage_id", "required"),
        ]
        assert rules(advance_on_connect=unset.model_copy(update={"enabled": False})) == []


class TestBackwardRules:
    def test_an_enabled_rule_to_an_earlier_stage_is_refused_aut_6(self) -> None:
        backward = ProgressionRule(
            enabled=True, from_stage_id=3, to_stage_id=1, events=CONNECT_EVENTS
        )
        assert rules(advance_on_connect=backward) == [
            ("advance_on_connect.to_stage_id", "later_stage")
        ]
        assert rules(advance_on_connect=backward.model_copy(update={"enabled": False})) == []

    def test_a_new_order_names_the_enabled_rules_it_would_turn_backwards_aut_6(self) -> None:
        config = default_config(STAGES)  # 1 -> 2 on outreach, 2 -> 3 on connect
        assert backward_rules(config, [1, 2, 3, 4, 5]) == []
        assert backward_rules(config, [3, 1, 2, 4, 5]) == [RuleName.ADVANCE_ON_CONNECT]
        assert backward_rules(config, [3, 2, 1, 4, 5]) == [
            RuleName.ADVANCE_ON_OUTREACH,
            RuleName.ADVANCE_ON_CONNECT,
        ]


class TestFollowUpRule:
    def test_enabling_needs_a_type_and_a_reason_aut_10(self) -> None:
        """AUT-10."""
        assert rules(follow_up_on_disqualify=FollowUpRule(enabled=True)) == [
            ("follow_up_on_disqualify.lead_type", "required"),
            ("follow_up_on_disqualify.reason_ids", "required"),
        ]
        valid = FollowUpRule(enabled=True, lead_type="re_engagement", reason_ids=(10,))
        assert rules(follow_up_on_disqualify=valid) == []

    def test_a_disabled_rule_keeps_partial_parameters_aut_1(self) -> None:
        kept = FollowUpRule(enabled=False, lead_type="new_business")
        assert rules(follow_up_on_disqualify=kept) == []

    def test_type_and_reasons_must_exist(self) -> None:
        unknown = FollowUpRule(enabled=False, lead_type="nope", reason_ids=(10, 12, 10))
        assert rules(follow_up_on_disqualify=unknown) == [
            ("follow_up_on_disqualify.lead_type", "exists"),
            ("follow_up_on_disqualify.reason_ids", "exists"),
            ("follow_up_on_disqualify.reason_ids", "unique"),
        ]


class TestConfig:
    def test_config_is_frozen_and_rejects_unknown_rules_aut_5(self) -> None:
        config = default_config(STAGES)
        with pytest.raises(ValidationError):
            config.advance_on_outreach.enabled = False  # type: ignore[misc]
        with pytest.raises(ValidationError):
            AutomationConfig.model_validate(
                {
                    **config.model_dump(),
                    "advance_on_meeting": config.model_dump()["advance_on_connect"],
                }
            )
        with pytest.raises(ValidationError):
            AutomationConfig.model_validate({"advance_on_outreach": config.advance_on_outreach})
