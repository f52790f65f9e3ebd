"""The action tree: one model per action type, branches holding more actions, and a chain
version."""

from typing import Annotated, Literal, get_args

from pydantic import Field, TypeAdapter

from domain.chains.base import _Action, _Model
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
from domain.chains.crm import CopyPropertyAction, SetLeadLabelAction, UpdateDealAction
from domain.chains.delays import DelayConfig
from domain.chains.marketing import (
    AddToListAction,
    EnrollInSequenceAction,
    RemoveFromListAction,
    UnenrollFromSequenceAction,
)


class BranchConfig(_Model):
    if_: Condition = Field(alias="if")
    then: list["Action"] = Field(default_factory=list)
    else_: list["Action"] | None = Field(default=None, alias="else")


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
    | WebhookAction
    # Marketing (domain/chains/marketing.py)
    | EnrollInSequenceAction
    | UnenrollFromSequenceAction
    | AddToListAction
    | RemoveFromListAction
    # CRM and data (domain/chains/crm.py)
    | UpdateDealAction
    | CopyPropertyAction
    | SetLeadLabelAction,
    Field(discriminator="type"),
]
BranchConfig.model_rebuild()

# Read off the union, so a type is registered in one place.
ACTION_TYPES: frozenset[str] = frozenset(
    get_args(member.model_fields["type"].annotation)[0] for member in get_args(get_args(Action)[0])
)

_ACTIONS: TypeAdapter[list[Action]] = TypeAdapter(list[Action])


class Chain(_Model):
    """A chain version: what a run is pinned to."""

    version: int = Field(ge=0)
    actions: list[Action] = Field(default_factory=list)
