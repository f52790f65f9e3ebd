from domain.leads import LeadSnapshot, MoveCause, workflow_id_for


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
