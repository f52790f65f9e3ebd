"""The action tree: one model per action type, branches holding more actions, and a chain
version."""

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from domain.chains.base import _Model
from domain.chains.conditions import Condition
from domain.chains.configs import (
    AssignOwnerConfig,
    CreateDealConfig,
    CreateTaskConfig,
    NotifyOwnerConfig,
    SendEmailConfig,
    SetPropertyConfig,
    WebhookConfig,
)
from domain.chains.delays import DelayConfig

ACTION_ID = re.compile(r"^a_[0-9a-f]{8}$")


class BranchConfig(_Model):
    if_: Condition = Field(alias="if")
    then: list["Action"] = Field(default_factory=list)
    else_: list["Action"] | None = Field(default=None, alias="else")


class Comment(_Model):
    id: int
    author_id: int | None
    text: str
    at: datetime


class _Action(_Model):
    id: str = Field(pattern=ACTION_ID.pattern, examples=["a_1f2e3d4c"])
    comments: list[Comment] = Field(
        default_factory=list, description="Read-only; post comments to .../comments"
    )


class CreateTaskAction(_Action):
    type: Literal["create_task"]
    config: CreateTaskConfig


class SendEmailAction(_Action):
    type: Literal["send_email"]
    config: SendEmailConfig


class DelayAction(_Action):
    type: Literal["delay"]
    config: DelayConfig


class BranchAction(_Action):
    type: Literal["branch"]
    config: BranchConfig


class SetPropertyAction(_Action):
    type: Literal["set_property"]
    config: SetPropertyConfig


class CreateDealAction(_Action):
    type: Literal["create_deal"]
    config: CreateDealConfig


class AssignOwnerAction(_Action):
    type: Literal["assign_owner"]
    config: AssignOwnerConfig


class NotifyOwnerAction(_Action):
    type: Literal["notify_owner"]
    config: NotifyOwnerConfig


class WebhookAction(_Action):
    type: Literal["webhook"]
    config: WebhookConfig


Action = Annotated[
    CreateTaskAction
    | SendEmailAction
    | DelayAction
    | BranchAction
    | SetPropertyAction
    | CreateDealAction
    | AssignOwnerAction
    | NotifyOwnerAction
    | WebhookAction,
    Field(discriminator="type"),
]
BranchConfig.model_rebuild()

ACTION_TYPES: frozenset[str] = frozenset(
    {
        "create_task",
        "send_email",
        "delay",
        "branch",
        "set_property",
        "create_deal",
        "assign_owner",
        "notify_owner",
        "webhook",
    }
)

_ACTIONS: TypeAdapter[list[Action]] = TypeAdapter(list[Action])


class Chain(_Model):
    """A chain version: what a run is pinned to."""

    version: int = Field(ge=0)
    actions: list[Action] = Field(default_factory=list)
