"""Planning: what a run starting now would do, step by step, and why."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from domain.chains.actions import (
    Action,
    AssignOwnerAction,
    BranchAction,
    CreateDealAction,
    CreateTaskAction,
    DelayAction,
    NotifyOwnerAction,
    SendEmailAction,
    SetPropertyAction,
    WebhookAction,
)
from domain.chains.base import _Model
from domain.chains.conditions import describe_condition, evaluate_condition
from domain.chains.delays import DelayKind, resolve_delay
from domain.chains.effect_action import EffectAction
from domain.chains.properties import ChainContext
from domain.chains.templates import render_template


class PlannedStep(_Model):
    """One action as a run would take it now: what it would do and why."""

    action_id: str
    type: str
    path: str = Field(description="Where the action sits, e.g. actions.1.config.then.0")
    depth: int
    would_run: bool = Field(description="False for actions on a branch path not taken")
    summary: str
    reason: str | None = None
    at: datetime = Field(description="When the step would start, counting earlier delays")
    wait: timedelta | None = Field(default=None, description="For a delay: how long it waits")
    details: dict[str, Any] = Field(default_factory=dict)


def _owner_text(user_id: int | None, context: ChainContext) -> str:
    if user_id is None:
        return "nobody (the lead has no owner)"
    if context.owner.get("id") == user_id and context.owner.get("name"):
        return f"{context.owner['name']} (user {user_id})"
    return f"user {user_id}"


def _owner_id(context: ChainContext) -> int | None:
    owner = context.lead.get("owner_id")
    return owner if isinstance(owner, int) and not isinstance(owner, bool) else None


def plan_action(action: Action, context: ChainContext, now: datetime) -> PlannedStep:
    """What one non-branch action would do at `now` (a branch gets its own entry in
    `plan_steps`)."""
    base = {"action_id": action.id, "type": action.type, "path": "", "depth": 0}
    summary: str
    details: dict[str, Any] = {}
    wait: timedelta | None = None
    reason: str | None = None
    if isinstance(action, CreateTaskAction):
        c = action.config
        assignee = c.assignee_id if c.assignee_id is not None else _owner_id(context)
        due = c.due_at if c.due_at is not None else (now + c.due_in if c.due_in else None)
        title = render_template(c.title, context)
        summary = f"create {c.type} task {title!r} for {_owner_text(assignee, context)}"
        if due is not None:
            summary += f", due {due.isoformat()}"
        reason = "assignee set on the action" if c.assignee_id is not None else "lead owner"
        details = {
            "title": title,
            "task_type": c.type,
            "priority": c.priority,
            "assignee_id": assignee,
            "due_at": due.isoformat() if due else None,
        }
    elif isinstance(action, SendEmailAction):
        c_e = action.config
        to = context.contact.get("email") if c_e.to == "contact" else context.owner.get("email")
        subject = render_template(c_e.subject, context)
        if to:
            summary = f"send email {subject!r} to {to}"
        else:
            summary = f"would fail: the {c_e.to} has no email address"
        details = {"to": to, "subject": subject, "body": render_template(c_e.body, context)}
    elif isinstance(action, DelayAction):
        c_d = action.config
        until = resolve_delay(c_d, now)
        wait = until - now
        if c_d.kind == DelayKind.UNTIL_EVENT:
            summary = f"wait for {c_d.until_event} for up to {wait}"
            reason = "continues early when the event arrives"
        elif c_d.kind == DelayKind.TIME_OF_DAY:
            summary = f"wait {wait} until {until.isoformat()}"
            reason = f"next {c_d.time_of_day} in {c_d.time_zone}" + (
                " on a weekday" if c_d.weekdays_only else ""
            )
        else:
            summary = f"wait {wait} until {until.isoformat()}"
        details = {"until": until.isoformat(), "kind": c_d.kind.value}
    elif isinstance(action, SetPropertyAction):
        c_s = action.config
        current = context.value(c_s.property)
        summary = f"set {c_s.property} to {c_s.value!r}"
        reason = f"currently {current!r}"
        details = {"property": c_s.property, "from": current, "to": c_s.value}
    elif isinstance(action, CreateDealAction):
        c_c = action.config
        name = render_template(c_c.name, context)
        summary = f"create deal {name!r}"
        if c_c.amount is not None:
            summary += f" worth {c_c.amount}"
        details = {
            "name": name,
            "amount": None if c_c.amount is None else str(c_c.amount),
            "close_date": (now + c_c.close_in).date().isoformat() if c_c.close_in else None,
        }
    elif isinstance(action, AssignOwnerAction):
        c_a = action.config
        current_owner = _owner_id(context)
        if c_a.only_if_unassigned and current_owner is not None:
            summary = f"keep owner {_owner_text(current_owner, context)}"
            reason = "only_if_unassigned and the lead has an owner"
        else:
            summary = f"assign the lead to user {c_a.user_id}"
        details = {"from": current_owner, "to": c_a.user_id}
    elif isinstance(action, NotifyOwnerAction):
        c_n = action.config
        message = render_template(c_n.message, context)
        owner = _owner_id(context)
        summary = f"notify {_owner_text(owner, context)} by {c_n.channel}: {message!r}"
        details = {"message": message, "channel": c_n.channel, "owner_id": owner}
    elif isinstance(action, WebhookAction):
        c_w = action.config
        summary = f"POST the lead as JSON to {c_w.url}"
        reason = f"signed with HMAC-SHA256, up to {c_w.retries} retries"
        details = {"url": str(c_w.url)}
    elif isinstance(action, EffectAction):
        # Types that describe themselves (the marketing and CRM-and-data groups).
        plan = action.plan(context, now)
        summary, reason, details = plan.summary, plan.reason, plan.details
    else:
        raise TypeError(f"plan a branch with plan_steps, not {action.type}")
    return PlannedStep(
        **base,
        would_run=True,
        summary=summary,
        reason=reason,
        at=now,
        wait=wait,
        details=details,
    )


def plan_steps(
    actions: Sequence[Action], context: ChainContext, now: datetime
) -> list[PlannedStep]:
    """Every action of the chain in run order, as a run starting at `now` would take it with
    `context` as its snapshot: branches are decided on the snapshot, actions on the path not
    taken are listed with `would_run=False`, and delays move the clock for later steps."""
    steps: list[PlannedStep] = []
    _plan(actions, context, now, "actions", 1, True, steps)
    return steps


def _plan(
    actions: Sequence[Action],
    context: ChainContext,
    now: datetime,
    prefix: str,
    depth: int,
    running: bool,
    steps: list[PlannedStep],
) -> datetime:
    for i, action in enumerate(actions):
        path = f"{prefix}.{i}"
        if isinstance(action, BranchAction):
            c = action.config
            holds = evaluate_condition(c.if_, context)
            taken = "then" if holds else "else"
            steps.append(
                PlannedStep(
                    action_id=action.id,
                    type=action.type,
                    path=path,
                    depth=depth,
                    would_run=running,
                    summary=f"take the {taken} path"
                    + ("" if holds or c.else_ is not None else " (empty: continue after it)"),
                    reason=describe_condition(c.if_, context),
                    at=now,
                    details={"condition": holds},
                )
            )
            end_then = _plan(
                c.then, context, now, f"{path}.config.then", depth + 1, running and holds, steps
            )
            end_else = now
            if c.else_ is not None:
                end_else = _plan(
                    c.else_,
                    context,
                    now,
                    f"{path}.config.else",
                    depth + 1,
                    running and not holds,
                    steps,
                )
            if running:
                now = end_then if holds else end_else
            continue
        step = plan_action(action, context, now).model_copy(
            update={"path": path, "depth": depth, "would_run": running}
        )
        if not running:
            step = step.model_copy(update={"reason": "on the branch path not taken"})
        steps.append(step)
        if running and step.wait is not None:
            now += step.wait
    return now
