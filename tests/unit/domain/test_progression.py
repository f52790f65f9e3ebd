"""The rule an event fires for a lead (AUT-2, AUT-7, AUT-8): what the lead workflow runs."""

from datetime import UTC, datetime, timedelta

from domain.leads import LeadSnapshot
from domain.progression import ProgressionConfig, ProgressionRuleView, choose_rule

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
NEW, ATTEMPTING, CONNECTED = 1, 2, 3

OUTREACH = ProgressionRuleView(
    name="advance_on_outreach",
    enabled=True,
    from_stage_id=NEW,
    to_stage_id=ATTEMPTING,
    from_position=0,
    to_position=1,
    events=("email_sent", "call"),
)
CONNECT = ProgressionRuleView(
    name="advance_on_connect",
    enabled=True,
    from_stage_id=ATTEMPTING,
    to_stage_id=CONNECTED,
    from_position=1,
    to_position=2,
    events=("email_reply", "call_connected"),
)
CONFIG = ProgressionConfig(pipeline_id=1, rules=(OUTREACH, CONNECT))


def lead(**changes: object) -> LeadSnapshot:
    fields: dict[str, object] = {
        "lead_id": 7,
        "name": "Jo",
        "pipeline_id": 1,
        "pipeline_label": "Sales leads",
        "is_default_pipeline": True,
        "stage_id": NEW,
        "stage_label": "New",
        "stage_kind": "open",
        **changes,
    }
    return LeadSnapshot.model_validate(fields)


def test_outreach_moves_a_new_lead_aut_3() -> None:
    assert choose_rule(CONFIG, lead(), ("email_sent",), NOW) == OUTREACH


def test_a_connection_moves_an_attempting_lead_aut_4() -> None:
    rule = choose_rule(CONFIG, lead(stage_id=ATTEMPTING), ("call", "call_connected"), NOW)
    assert rule == CONNECT


def test_one_event_moves_a_lead_one_step_only_aut_7() -> None:
    # A connected call is outreach too, but from New it fires outreach, not both rules.
    assert choose_rule(CONFIG, lead(), ("call", "call_connected"), NOW) == OUTREACH


def test_an_event_no_rule_selects_moves_nothing() -> None:
    assert choose_rule(CONFIG, lead(), ("email_reply",), NOW) is None
    assert choose_rule(CONFIG, lead(), (), NOW) is None


def test_a_switched_off_rule_never_fires_aut_5() -> None:
    off = CONFIG.model_copy(update={"rules": (OUTREACH.model_copy(update={"enabled": False}),)})
    assert choose_rule(off, lead(), ("email_sent",), NOW) is None


def test_only_the_default_pipeline_moves_automatically_aut_2() -> None:
    assert choose_rule(CONFIG, lead(is_default_pipeline=False), ("email_sent",), NOW) is None


def test_a_closed_lead_never_moves() -> None:
    closed = lead(stage_kind="disqualified")
    assert choose_rule(CONFIG, closed, ("email_sent",), NOW) is None


def test_a_lead_moved_back_by_hand_never_moves_automatically_aut_8() -> None:
    assert choose_rule(CONFIG, lead(auto_progression=False), ("email_sent",), NOW) is None


def test_events_older_than_the_last_manual_move_are_ignored_aut_8() -> None:
    moved = lead(last_manual_move_at=NOW)
    assert choose_rule(CONFIG, moved, ("email_sent",), NOW - timedelta(seconds=1)) is None
    assert choose_rule(CONFIG, moved, ("email_sent",), NOW + timedelta(seconds=1)) == OUTREACH


def test_a_rule_pointing_backwards_never_fires() -> None:
    backward = OUTREACH.model_copy(update={"from_position": 2, "to_position": 0})
    config = CONFIG.model_copy(update={"rules": (backward,)})
    assert choose_rule(config, lead(), ("email_sent",), NOW) is None
