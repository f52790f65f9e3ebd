from domain.stages import (
    DEFAULT_LEAD_STAGES,
    PipelineObject,
    StageKind,
    is_backward,
    is_closed,
    missing_kinds,
)


def test_default_lead_pipeline_is_seeded_in_the_spec_order_stg_3() -> None:
    assert [(s.label, s.kind) for s in DEFAULT_LEAD_STAGES] == [
        ("New", StageKind.OPEN),
        ("Attempting", StageKind.OPEN),
        ("Connected", StageKind.OPEN),
        ("Qualified", StageKind.QUALIFIED),
        ("Disqualified", StageKind.DISQUALIFIED),
    ]


def test_a_move_to_a_lower_position_is_backward_aut_8() -> None:
    assert is_backward(from_position=2, to_position=0)
    assert not is_backward(from_position=0, to_position=2)
    assert not is_backward(from_position=1, to_position=1)


def test_only_qualified_disqualified_won_and_lost_are_closed() -> None:
    assert [k for k in StageKind if is_closed(k)] == [
        StageKind.QUALIFIED,
        StageKind.DISQUALIFIED,
        StageKind.WON,
        StageKind.LOST,
    ]


def test_a_pipeline_must_keep_every_kind_group() -> None:
    assert missing_kinds(PipelineObject.LEAD, [StageKind.OPEN, StageKind.QUALIFIED]) == [
        StageKind.DISQUALIFIED
    ]
    assert missing_kinds(PipelineObject.DEAL, [StageKind.OPEN, StageKind.WON, StageKind.LOST]) == []
