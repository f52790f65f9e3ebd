"""Messages between the lead workflow, its stage-chain child workflows and their activities."""

from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.chains import Action, NotifyOwnerAction, SendEmailAction, WebhookAction
from domain.chains.settings import ChainSettings


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True)


class ChainLookup(_Message):
    stage_id: int


class ChainInForce(_Message):
    version: int
    actions: list[Action]


class StageChainInput(_Message):
    """A run of one stage's chain for one stage entry, pinned to the version in force then."""

    lead_id: int
    pipeline_id: int
    stage_id: int
    stage_entry_id: int
    version: int
    actions: list[Action]
    # The version's workflow-level settings (ACT-7); runs started before them had defaults.
    settings: ChainSettings = ChainSettings()


class ChainEnrollmentRequest(_Message):
    """A stage entry asking to run the stage's chain."""

    lead_id: int
    stage_id: int
    stage_entry_id: int


class ChainEnrollment(_Message):
    """The run an entry reserved (`workflow_id`, the version and its settings), or why it
    starts none (`refusal`; no `workflow_id`). An empty chain starts nothing either."""

    version: int
    actions: list[Action]
    settings: ChainSettings = ChainSettings()
    workflow_id: str | None = None
    refusal: str | None = None


def chain_workflow_id(lead_id: int, stage_entry_id: int, version: int) -> str:
    """Derived from lead, stage entry and version: a retried or replayed start is the same run."""
    return f"chain-{lead_id}-{stage_entry_id}-v{version}"


class ChainRunStart(_Message):
    workflow_id: str
    lead_id: int
    pipeline_id: int
    stage_id: int
    version: int


class ChainRunEnd(_Message):
    workflow_id: str
    status: str


class ChainStepRecord(_Message):
    workflow_id: str
    action_id: str
    type: str
    status: str
    result: dict[str, Any] | None = None
    error: str | None = None


class ChainContextRequest(_Message):
    lead_id: int


class ActionEffect(_Message):
    """One action's side effect; `key` makes it happen once however often it is retried."""

    workflow_id: str
    lead_id: int
    key: str
    action: Action
    # The stage entry the run belongs to: the effect happens only while it is the lead's
    # current one. None (activities scheduled before this field) skips that check.
    stage_entry_id: int | None = None


# What an effect's result carries when the lead had left the run's stage: nothing was done.
LEFT_STAGE = "left_stage"


# Steps run once per chain run: the key's sequence part is fixed (no loops in a chain).
STEP_SEQ = 1


def effect_key(workflow_id: str, action_id: str) -> str:
    return f"{workflow_id}/{action_id}/{STEP_SEQ}"


def commits_with_its_step(action: Action) -> bool:
    """Whether the action's effect is database writes alone, which can commit with its step's
    outcome. An email is sent, and a webhook called, after their effect's transaction: their
    step completes once that is done."""
    if isinstance(action, SendEmailAction | WebhookAction):
        return False
    return not (isinstance(action, NotifyOwnerAction) and action.config.channel == "email")
