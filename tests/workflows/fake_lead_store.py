"""Activities under their real names, over an in-memory lead, for time-skipping workflow tests."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.leads import LeadSnapshot, LoadLeadInput, StageChangeInput, StageChangeResult
from domain.progression import LoadProgressionInput, ProgressionConfig, ProgressionRuleView

OUTREACH = ProgressionRuleView(
    name="advance_on_outreach",
    enabled=True,
    from_stage_id=1,
    to_stage_id=2,
    from_position=0,
    to_position=1,
    events=("email_sent", "linkedin_message", "call", "meeting_scheduled"),
)
CONNECT = ProgressionRuleView(
    name="advance_on_connect",
    enabled=True,
    from_stage_id=2,
    to_stage_id=3,
    from_position=1,
    to_position=2,
    events=("email_reply", "meeting_booked_by_contact", "call_connected"),
)

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
    progression: ProgressionConfig = field(
        default_factory=lambda: ProgressionConfig(pipeline_id=1, rules=(OUTREACH, CONNECT))
    )
    config_reads: int = 0
    # Reads of the pipeline's default flag alone (leads outside the default pipeline).
    default_reads: int = 0
    # Stage entry ids handed out by moves; None leaves chains out of the picture.
    entries: int | None = None
    # Every call of change_lead_stage, retries included.
    change_calls: list[StageChangeInput] = field(default_factory=list)
    # Retryable failures (a database outage) before change_lead_stage works.
    change_failures: int = 0
    # Awaited by each call of change_lead_stage before it does anything: holds it open.
    before_change: Callable[[StageChangeInput], Awaitable[None]] | None = None

    def activities(self) -> list[Callable[..., Any]]:
        @activity.defn(name="load_lead")
        async def load_lead(input: LoadLeadInput) -> LeadSnapshot:
            self.loads += 1
            return self.leads[input.lead_id]

        @activity.defn(name="change_lead_stage")
        async def change_lead_stage(input: StageChangeInput) -> StageChangeResult:
            self.change_calls.append(input)
            if self.before_change is not None:
                await self.before_change(input)
            if self.change_failures > 0:
                self.change_failures -= 1
                raise RuntimeError("database briefly unavailable")
            if input.to_stage_id not in STAGES:
                raise ApplicationError(
                    f"stage {input.to_stage_id} is not a stage of this lead's pipeline",
                    {"status": 422, "title": "Invalid input", "errors": []},
                    type="validation-error",
                    non_retryable=True,
                )
            current = self.leads[input.lead_id]
            if input.expected_from_stage_id not in (None, current.stage_id):
                return StageChangeResult(snapshot=current, moved=False)
            self.changes.append(input)
            # As the real transition does: a manual move back turns automation off (AUT-8).
            is_manual = input.cause == "manual"
            if self.entries is not None:
                self.entries += 1
            moved = snapshot(
                input.lead_id,
                input.to_stage_id,
                stage_entry_id=self.entries,
                pipeline_id=current.pipeline_id,
                is_default_pipeline=current.is_default_pipeline,
                auto_progression=current.auto_progression
                and not (is_manual and input.to_stage_id < current.stage_id),
                last_manual_move_at=datetime.now(UTC) if is_manual else current.last_manual_move_at,
            )
            self.leads[input.lead_id] = moved
            return StageChangeResult(snapshot=moved, moved=True)

        @activity.defn(name="load_progression")
        async def load_progression(input: LoadProgressionInput) -> ProgressionConfig:
            self.config_reads += 1
            return self.progression

        @activity.defn(name="is_default_pipeline")
        async def is_default_pipeline(input: LoadProgressionInput) -> bool:
            self.default_reads += 1
            return bool(self.progression.is_default)

        return [load_lead, change_lead_stage, load_progression, is_default_pipeline]
