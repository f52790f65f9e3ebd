"""Activities under their real names, over an in-memory lead, for time-skipping workflow tests."""

from dataclasses import dataclass, field

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.leads import LeadSnapshot, LoadLeadInput, StageChangeInput, StageChangeResult

# The default pipeline as (id, label, kind).
STAGES = {
    1: ("New", "open"),
    2: ("Attempting", "open"),
    3: ("Connected", "open"),
    4: ("Qualified", "qualified"),
    5: ("Disqualified", "disqualified"),
}


def snapshot(lead_id: int, stage_id: int, **overrides: object) -> LeadSnapshot:
    label, kind = STAGES[stage_id]
    values: dict[str, object] = {
        "lead_id": lead_id,
        "name": f"Lead {lead_id}",
        "pipeline_id": 1,
        "pipeline_label": "Sales leads",
        "is_default_pipeline": True,
        "stage_id": stage_id,
        "stage_label": label,
        "stage_kind": kind,
        "owner_id": 7,
        **overrides,
    }
    return LeadSnapshot.model_validate(values)


@dataclass
class FakeLeadStore:
    leads: dict[int, LeadSnapshot] = field(default_factory=dict)
    loads: int = 0
    changes: list[StageChangeInput] = field(default_factory=list)

    def activities(self) -> list[object]:
        @activity.defn(name="load_lead")
        async def load_lead(input: LoadLeadInput) -> LeadSnapshot:
            self.loads += 1
            return self.leads[input.lead_id]

        @activity.defn(name="change_lead_stage")
        async def change_lead_stage(input: StageChangeInput) -> StageChangeResult:
            if input.to_stage_id not in STAGES:
                raise ApplicationError(
                    f"stage {input.to_stage_id} is not a stage of this lead's pipeline",
                    {"status": 422, "title": "Invalid input", "errors": []},
                    type="validation-error",
                    non_retryable=True,
                )
            self.changes.append(input)
            moved = snapshot(input.lead_id, input.to_stage_id)
            self.leads[input.lead_id] = moved
            return StageChangeResult(snapshot=moved, moved=True)

        return [load_lead, change_lead_stage]
