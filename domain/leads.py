"""Leads: their vocabulary and the typed messages the lead workflow exchanges."""

import hashlib
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class LeadSource(StrEnum):
    MANUAL = "manual"
    LIFECYCLE_STAGE = "lifecycle_stage"
    FOLLOW_UP = "follow_up"


class LeadLabel(StrEnum):
    HOT = "hot"
    WARM = "warm"
    COLD = "cold"


class MoveCause(StrEnum):
    """Why a lead changed stage, as lead history shows it (`automation:<rule>` adds the rule)."""

    CREATED = "created"
    MANUAL = "manual"
    CHAIN = "chain"

    @staticmethod
    def automation(rule: str) -> str:
        return f"automation:{rule}"


# A lead's workflow id is this prefix and the lead id.
WORKFLOW_ID_PREFIX = "lead-"


def workflow_id_for(lead_id: int) -> str:
    return f"{WORKFLOW_ID_PREFIX}{lead_id}"


# The width of lead_stage_history.transition_key.
TRANSITION_KEY_LENGTH = 200


def event_transition_key(workflow_id: str, event_id: str, after: str | None = None) -> str:
    """The idempotency key of an automatic move on `event_id`, or on `event_id` applied again
    `after` a late event. A key too long for its column (event ids take 200 characters)
    becomes a digest of itself, still one per move."""
    key = f"{workflow_id}/event/{event_id}" + (f"/after/{after}" if after is not None else "")
    if len(key) <= TRANSITION_KEY_LENGTH:
        return key
    return f"{workflow_id}/event/sha256:{hashlib.sha256(key.encode()).hexdigest()}"


class _Message(BaseModel):
    # Workflow inputs and results travel through the pydantic data converter; frozen so a
    # handler cannot change what history recorded. New fields must get defaults.
    model_config = ConfigDict(frozen=True)


class LeadSnapshot(_Message):
    """What the lead workflow knows of its lead, loaded from and written back to PostgreSQL."""

    lead_id: int
    name: str
    pipeline_id: int
    pipeline_label: str
    is_default_pipeline: bool
    stage_id: int
    stage_label: str
    stage_kind: str
    owner_id: int | None = None
    lead_type: str | None = None
    auto_progression: bool = True
    last_manual_move_at: datetime | None = None
    # The history row that put the lead in its current stage: identifies this stage entry.
    stage_entry_id: int | None = None

    @property
    def is_closed(self) -> bool:
        return self.stage_kind in ("qualified", "disqualified")


class AppliedEvent(_Message):
    """An automation event the lead workflow applied, kept to place a late one among them."""

    event_id: str
    occurred_at: datetime
    kinds: tuple[str, ...]
    # The lead's stage just before this event, as applying the kept events in time order has it.
    stage_id: int


class EventWindow(_Message):
    """The lead's recent automation events in time order (domain.progression.replay_in_order).

    Valid only for the lead it was built on: once the lead is in another stage than
    `stage_id`, or was moved by hand since, the events no longer say how it got where it is.
    """

    events: tuple[AppliedEvent, ...] = ()
    stage_id: int | None = None
    last_manual_move_at: datetime | None = None


class LeadWorkflowInput(_Message):
    lead_id: int
    # Carried across continue-as-new so the next run needs no reload and forgets no event.
    snapshot: LeadSnapshot | None = None
    applied_event_ids: tuple[str, ...] = ()
    history_limit: int = 2000
    # The stage chain running for the current stage entry, carried to signal it later.
    chain_workflow_id: str | None = None
    # Carried so that a late event finds its place among those the last run applied.
    event_window: EventWindow = EventWindow()


class LifecycleChangeCause(_Message):
    """A contact's lifecycle-stage change that made create_lead_on_lifecycle create a lead."""

    kind: Literal["lifecycle_change"] = "lifecycle_change"
    contact_id: int
    # The contact's lifecycle-change record (GET /contacts/{id}/lifecycle-changes).
    lifecycle_change_id: int
    from_lifecycle_stage: str | None
    to_lifecycle_stage: str
    # Where the change came from (manual, integration...); company sync never creates leads.
    change_source: str
    at: datetime


class DisqualificationCause(_Message):
    """Another lead's move into a disqualified stage that made follow_up_on_disqualify create a
    lead: that lead's history row."""

    kind: Literal["disqualification"] = "disqualification"
    lead_id: int
    stage_change_id: int
    from_stage_id: int | None
    to_stage_id: int
    disqualification_reason_id: int | None
    at: datetime


# The event behind a lead automation created (AUT-13), kept on its `created` history row.
CreationCause = Annotated[LifecycleChangeCause | DisqualificationCause, Field(discriminator="kind")]


class DealDraft(_Message):
    """Deal details supplied with a move into a qualified stage (QUA-2)."""

    name: str
    amount: Decimal | None = None
    close_date: date | None = None
    pipeline_id: int | None = None
    stage_id: int | None = None


class MoveStageRequest(_Message):
    """A manual stage move, sent to the lead workflow as an update."""

    stage_id: int
    actor_id: int | None = None
    disqualification_reason_id: int | None = None
    deal: DealDraft | None = None
    requested_at: datetime | None = None


class StageChangeInput(_Message):
    """What the transition activity writes: the move and its cause, in one transaction."""

    lead_id: int
    to_stage_id: int
    cause: str
    actor_id: int | None = None
    event_id: str | None = None
    disqualification_reason_id: int | None = None
    deal: DealDraft | None = None
    # Idempotency: a retried activity finds the row it already wrote under this key.
    transition_key: str
    # Automation moves only from the stage it decided on; a lead moved meanwhile stays put.
    expected_from_stage_id: int | None = None


class StageChangeResult(_Message):
    snapshot: LeadSnapshot
    moved: bool
    deal_id: int | None = None


class LoadLeadInput(_Message):
    lead_id: int
