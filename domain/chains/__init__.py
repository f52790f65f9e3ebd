"""Per-stage action chains (ACT-*): the action tree, its validation, edits, and planning.

A chain is an ordered list of actions; a `branch` holds two more lists (`then`, `else`). Every
action has a stable server-assigned id (`a_` + 8 hex digits) that survives edits and versions,
so comments, run steps and idempotency keys (`<workflow id>/<action id>/<seq>`) can name it.

Everything here is pure: no I/O, no clock, no randomness (ids come from a `make_id` callable),
so the stage-chain workflow can call `evaluate_condition`, `render_template`, `plan_steps` and
`resolve_delay` deterministically.

Modules, each importing only those before it: `base` (the shared model), `properties` (the
catalogue and the snapshot a run reads), `templates`, `conditions`, `delays`, `configs`,
`effect_action` (what a self-describing action type declares), the group modules `marketing`
and `crm`, `actions` (the tree, registering every type), `parsing` (and validation), `editing`
(walks and edits), `webhooks` (masking and target checks), `planning`. Import from this
package; its names are below.
"""

from domain.chains.actions import (
    ACTION_TYPES,
    Action,
    AssignOwnerAction,
    BranchAction,
    BranchConfig,
    Chain,
    CreateDealAction,
    CreateTaskAction,
    DelayAction,
    NotifyOwnerAction,
    SendEmailAction,
    SetPropertyAction,
    WebhookAction,
)
from domain.chains.base import ACTION_ID, Comment
from domain.chains.conditions import Condition, Operator, describe_condition, evaluate_condition
from domain.chains.configs import (
    MAX_CLOSE_IN,
    MAX_DUE_IN,
    AssignOwnerConfig,
    CreateDealConfig,
    CreateTaskConfig,
    NotifyOwnerConfig,
    SendEmailConfig,
    SetPropertyConfig,
    WebhookConfig,
)
from domain.chains.crm import (
    COPY_TARGETS,
    CopyPropertyAction,
    CopyPropertyConfig,
    SetLeadLabelAction,
    SetLeadLabelConfig,
    UpdateDealAction,
    UpdateDealConfig,
    copy_problem,
)
from domain.chains.delays import (
    MAX_DELAY,
    Delay,
    DelayConfig,
    DelayEvent,
    DelayKind,
    next_time_of_day,
    resolve_delay,
)
from domain.chains.editing import (
    Branch,
    DeleteMode,
    action_ids,
    delete_action,
    find_action,
    insert_action,
    patch_action,
    walk,
    with_comments,
)
from domain.chains.effect_action import EffectAction, Plan, RecordKind, Reference
from domain.chains.marketing import (
    AddToListAction,
    ContactListConfig,
    EnrollInSequenceAction,
    EnrollInSequenceConfig,
    RemoveFromListAction,
    SequenceConfig,
    UnenrollFromSequenceAction,
)
from domain.chains.parsing import (
    MAX_ACTIONS,
    MAX_DEPTH,
    assign_ids,
    dump_actions,
    new_action_id,
    parse_actions,
    validate_chain,
)
from domain.chains.planning import PlannedStep, plan_action, plan_steps
from domain.chains.properties import (
    ENUM_VALUES,
    PROPERTIES,
    WRITABLE_LENGTHS,
    WRITABLE_PROPERTIES,
    ChainContext,
    JsonScalar,
    PropertyKind,
)
from domain.chains.templates import PLACEHOLDER, Template, render_template, template_names
from domain.chains.webhooks import (
    REDACTED,
    SENSITIVE_PARAMS,
    is_sensitive_param,
    mask_url,
    mask_urls_in,
    redact_secrets,
    webhook_target_errors,
)

__all__ = [
    "ACTION_ID",
    "ACTION_TYPES",
    "COPY_TARGETS",
    "ENUM_VALUES",
    "MAX_ACTIONS",
    "MAX_CLOSE_IN",
    "MAX_DELAY",
    "MAX_DEPTH",
    "MAX_DUE_IN",
    "PLACEHOLDER",
    "PROPERTIES",
    "REDACTED",
    "SENSITIVE_PARAMS",
    "WRITABLE_LENGTHS",
    "WRITABLE_PROPERTIES",
    "Action",
    "AddToListAction",
    "AssignOwnerAction",
    "AssignOwnerConfig",
    "Branch",
    "BranchAction",
    "BranchConfig",
    "Chain",
    "ChainContext",
    "Comment",
    "Condition",
    "ContactListConfig",
    "CopyPropertyAction",
    "CopyPropertyConfig",
    "CreateDealAction",
    "CreateDealConfig",
    "CreateTaskAction",
    "CreateTaskConfig",
    "Delay",
    "DelayAction",
    "DelayConfig",
    "DelayEvent",
    "DelayKind",
    "DeleteMode",
    "EffectAction",
    "EnrollInSequenceAction",
    "EnrollInSequenceConfig",
    "JsonScalar",
    "NotifyOwnerAction",
    "NotifyOwnerConfig",
    "Operator",
    "Plan",
    "PlannedStep",
    "PropertyKind",
    "RecordKind",
    "Reference",
    "RemoveFromListAction",
    "SendEmailAction",
    "SendEmailConfig",
    "SequenceConfig",
    "SetLeadLabelAction",
    "SetLeadLabelConfig",
    "SetPropertyAction",
    "SetPropertyConfig",
    "Template",
    "UnenrollFromSequenceAction",
    "UpdateDealAction",
    "UpdateDealConfig",
    "WebhookAction",
    "WebhookConfig",
    "action_ids",
    "assign_ids",
    "copy_problem",
    "delete_action",
    "describe_condition",
    "dump_actions",
    "evaluate_condition",
    "find_action",
    "insert_action",
    "is_sensitive_param",
    "mask_url",
    "mask_urls_in",
    "new_action_id",
    "next_time_of_day",
    "parse_actions",
    "patch_action",
    "plan_action",
    "plan_steps",
    "redact_secrets",
    "render_template",
    "resolve_delay",
    "template_names",
    "validate_chain",
    "walk",
    "webhook_target_errors",
    "with_comments",
]
