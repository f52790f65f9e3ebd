"""Every route of the API and what each caller gets from it: the one access table.

A row gives the expected status per caller, the records the request needs (`setup`, a World
method) and a body valid enough that only the caller decides the answer. The objects belong to
`sales_user`; `other_user` is another rep acting on them. `late` names callers refused by the
service after validation, because the refusal depends on the request (whose workspace).
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tests.authz.world import Context, World, now, unique

CALLERS = (
    "anonymous",
    "bad_token",
    "service",
    "legacy_seat",
    "sales_user",
    "admin",
    "super_admin",
    "other_user",
)
SIGNED_IN = CALLERS[2:]


def public(ok: int = 200) -> dict[str, int]:
    return dict.fromkeys(CALLERS, ok)


def allow(ok: int, *who: str, **overrides: int) -> dict[str, int]:
    """`ok` for the callers named, 401 without a valid token, 403 for the other signed-in."""
    expect = {"anonymous": 401, "bad_token": 401}
    expect |= {caller: ok if caller in who else 403 for caller in SIGNED_IN}
    return expect | overrides


def everyone(ok: int, **overrides: int) -> dict[str, int]:
    return allow(ok, *SIGNED_IN, **overrides)


def editors(ok: int, **overrides: int) -> dict[str, int]:
    """RECORD_EDITORS: a legacy seat works CRM records; only the workspace needs a current one."""
    return allow(ok, "legacy_seat", "sales_user", "admin", "super_admin", "other_user", **overrides)


def admins(ok: int) -> dict[str, int]:
    return allow(ok, "admin", "super_admin")


def workspace(ok: int, **overrides: int) -> dict[str, int]:
    """PERM-3: a current seat (admins here have none); PERM-4: a super admin sees the owner's
    workspace without one; PERM-8: another rep does not see the owner's tasks (404)."""
    return allow(ok, "sales_user", "super_admin", "other_user", other_user=404) | overrides


def deals_tab(ok: int, **overrides: int) -> dict[str, int]:
    """PERM-3: a current seat (a super admin needs none for another owner's deals); PERM-7:
    another rep whose deal visibility is `all` reads the owner's deals."""
    return allow(ok, "sales_user", "super_admin", "other_user") | overrides


Setup = Callable[[World], Awaitable[Context]]


@dataclass(frozen=True)
class Row:
    expect: dict[str, int]
    setup: Setup = World.nothing
    body: Callable[[Context], Any] | None = None
    query: Callable[[Context], dict[str, Any]] | None = None
    late: frozenset[str] = field(default_factory=frozenset)


CHAIN = "/v1/pipelines/{pipeline_id}/stages/{stage_id}/chain"
ACTION = {"type": "create_task", "config": {"title": "Call", "due_in": "P1D"}}
LEAD_SETTINGS = {
    "create_lead_on_lifecycle": {"enabled": False, "stages": []},
    "set_lifecycle_on_associate": {"enabled": False, "stage": None},
    "require_deal_on_qualify": False,
    "require_disqualification_reason": False,
}


def activity(ctx: Context) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex,
        "type": "note",
        "occurred_at": now(),
        "contact_id": ctx["contact_id"],
    }


TABLE: dict[tuple[str, str], Row] = {
    # Operations and documentation are public.
    ("GET", "/openapi.json"): Row(public()),
    ("GET", "/docs"): Row(public()),
    ("GET", "/docs/oauth2-redirect"): Row(public()),
    ("GET", "/redoc"): Row(public()),
    ("GET", "/v1/healthz"): Row(public()),
    ("GET", "/v1/readyz"): Row(public()),
    ("GET", "/v1/metrics"): Row(public()),
    # People
    ("POST", "/v1/users"): Row(
        admins(201),
        body=lambda c: {
            "email": f"{uuid.uuid4().hex[:12]}@example.com",
            "name": "New",
            "role": "sales_user",
        },
    ),
    ("GET", "/v1/users/me"): Row(everyone(200)),
    ("PATCH", "/v1/users/me"): Row(
        everyone(200), body=lambda c: {"task_settings": {"prompt_follow_up_on_complete": True}}
    ),
    ("GET", "/v1/users"): Row(everyone(200)),
    ("GET", "/v1/users/{user_id}"): Row(everyone(200), World.user),
    ("PATCH", "/v1/users/{user_id}"): Row(
        admins(200), World.user, body=lambda c: {"seat": "current", "time_zone": "Europe/Oslo"}
    ),
    # CRM records: shared, so another rep works the owner's as well.
    ("POST", "/v1/contacts"): Row(editors(201), body=lambda c: {"first_name": "Al"}),
    ("GET", "/v1/contacts/{contact_id}"): Row(everyone(200), World.contact),
    ("PATCH", "/v1/contacts/{contact_id}"): Row(
        editors(200), World.contact, body=lambda c: {"last_name": "Ng"}
    ),
    ("GET", "/v1/contacts/{contact_id}/lifecycle-changes"): Row(everyone(200), World.contact),
    ("POST", "/v1/companies"): Row(editors(201), body=lambda c: {"name": unique("Co")}),
    ("GET", "/v1/companies/{company_id}"): Row(everyone(200), World.company),
    ("PATCH", "/v1/companies/{company_id}"): Row(
        editors(200), World.company, body=lambda c: {"domain": "acme.io"}
    ),
    ("POST", "/v1/leads"): Row(
        editors(201), World.contact, body=lambda c: {"contact_id": c["contact_id"]}
    ),
    ("GET", "/v1/leads"): Row(everyone(200)),
    ("GET", "/v1/leads/{lead_id}"): Row(everyone(200), World.lead),
    ("PATCH", "/v1/leads/{lead_id}"): Row(
        editors(200), World.lead, body=lambda c: {"label": "warm"}
    ),
    ("POST", "/v1/leads/{lead_id}/stage"): Row(
        editors(200), World.lead, body=lambda c: {"stage_id": c["stage_ids"][1]}
    ),
    ("POST", "/v1/leads/{lead_id}/owner"): Row(
        editors(200), World.lead, body=lambda c: {"owner_id": c["owner_id"]}
    ),
    ("GET", "/v1/leads/{lead_id}/history"): Row(everyone(200), World.lead),
    ("POST", "/v1/deals"): Row(editors(201), body=lambda c: {"name": unique("Deal")}),
    ("GET", "/v1/deals/{deal_id}"): Row(everyone(200), World.deal),
    ("PATCH", "/v1/deals/{deal_id}"): Row(
        editors(200), World.deal, body=lambda c: {"name": unique("Deal")}
    ),
    # Activities: what services post; anyone signed in may.
    ("POST", "/v1/activities"): Row(everyone(202), World.contact, body=activity),
    ("POST", "/v1/activities:batch"): Row(
        everyone(202), World.contact, body=lambda c: {"activities": [activity(c)]}
    ),
    ("GET", "/v1/activities"): Row(everyone(200), query=lambda c: {"type": "note"}),
    # Meetings and calls: CRM records, so a legacy seat works its own; they are their owner's
    # and every admin's, and another rep does not find them (404).
    ("POST", "/v1/meetings"): Row(
        editors(201), body=lambda c: {"title": "Demo", "start": now(), "end": now()}
    ),
    ("GET", "/v1/meetings/{meeting_id}"): Row(
        editors(200, legacy_seat=404, other_user=404), World.meeting
    ),
    ("POST", "/v1/meetings/{meeting_id}/outcome"): Row(
        editors(200, legacy_seat=404, other_user=404),
        World.meeting,
        body=lambda c: {"outcome": "completed"},
    ),
    ("GET", "/v1/calls/{call_id}"): Row(editors(200, legacy_seat=404, other_user=404), World.call),
    ("POST", "/v1/calls/{call_id}/outcome"): Row(
        editors(200, legacy_seat=404, other_user=404),
        World.call,
        body=lambda c: {"outcome": "connected"},
    ),
    # Sequences: admins make them, reps enroll their contacts.
    ("POST", "/v1/sequences"): Row(admins(201), body=lambda c: {"name": unique("Sequence")}),
    ("GET", "/v1/sequences"): Row(everyone(200)),
    ("POST", "/v1/sequences/{sequence_id}/enrollments"): Row(
        editors(201), World.sequence, body=lambda c: {"contact_id": c["contact_id"]}
    ),
    ("DELETE", "/v1/sequences/{sequence_id}/enrollments/{contact_id}"): Row(
        editors(204), World.enrollment
    ),
    # Static contact lists: admins make them, everyone reads them; chains change members.
    ("POST", "/v1/lists"): Row(admins(201), body=lambda c: {"name": unique("List")}),
    ("GET", "/v1/lists"): Row(everyone(200)),
    ("GET", "/v1/lists/{list_id}"): Row(everyone(200), World.contact_list),
    ("GET", "/v1/lists/{list_id}/members"): Row(everyone(200), World.contact_list),
    # The workspace switch (PERM-9): everyone reads it, admins flip it.
    ("GET", "/v1/settings/workspace"): Row(everyone(200)),
    ("PUT", "/v1/settings/workspace"): Row(admins(200), body=lambda c: {"enabled": True}),
    # Lead configuration: everyone reads it, admins change it (PERM-1).
    ("GET", "/v1/settings/leads"): Row(everyone(200)),
    ("PUT", "/v1/settings/leads"): Row(admins(200), body=lambda c: LEAD_SETTINGS),
    ("GET", "/v1/pipelines"): Row(everyone(200)),
    ("POST", "/v1/pipelines"): Row(
        admins(201),
        body=lambda c: {
            "object": "deal",
            "label": unique("Deals"),
            "stages": [
                {"label": "Open", "kind": "open"},
                {"label": "Won", "kind": "won"},
                {"label": "Lost", "kind": "lost"},
            ],
        },
    ),
    ("GET", "/v1/pipelines/{pipeline_id}"): Row(everyone(200), World.pipeline),
    ("PATCH", "/v1/pipelines/{pipeline_id}"): Row(
        admins(200), World.pipeline, body=lambda c: {"label": unique("Renamed")}
    ),
    ("DELETE", "/v1/pipelines/{pipeline_id}"): Row(admins(204), World.pipeline),
    ("POST", "/v1/pipelines/{pipeline_id}/stages"): Row(
        admins(201), World.pipeline, body=lambda c: {"label": "Talking", "kind": "open"}
    ),
    ("PUT", "/v1/pipelines/{pipeline_id}/stages"): Row(
        admins(200),
        World.pipeline,
        body=lambda c: {"stages": [{"id": i, "label": f"Stage {i}"} for i in c["stage_ids"]]},
    ),
    ("PUT", "/v1/pipelines/{pipeline_id}/stages/order"): Row(
        admins(200), World.pipeline, body=lambda c: {"ids": c["stage_ids"]}
    ),
    ("PATCH", "/v1/pipelines/{pipeline_id}/stages/{stage_id}"): Row(
        admins(200), World.pipeline, body=lambda c: {"label": "Fresh"}
    ),
    ("DELETE", "/v1/pipelines/{pipeline_id}/stages/{stage_id}"): Row(
        admins(204), World.extra_stage
    ),
    ("GET", "/v1/pipelines/{pipeline_id}/automation"): Row(everyone(200), World.pipeline),
    ("PUT", "/v1/pipelines/{pipeline_id}/automation"): Row(
        admins(200), World.automation, body=lambda c: c["automation"]
    ),
    # Backtests need what saving needs (PERM-2), and the same body.
    ("POST", "/v1/pipelines/{pipeline_id}/automation:backtest"): Row(
        admins(200), World.automation, body=lambda c: {**c["automation"], "days": 1}
    ),
    ("POST", f"{CHAIN}:backtest"): Row(
        admins(200), World.pipeline, body=lambda c: {"actions": [ACTION], "days": 1}
    ),
    ("GET", "/v1/disqualification-reasons"): Row(everyone(200)),
    ("POST", "/v1/disqualification-reasons"): Row(
        admins(201), body=lambda c: {"label": unique("Reason")}
    ),
    ("PUT", "/v1/disqualification-reasons"): Row(
        admins(200),
        World.reasons,
        body=lambda c: {"reasons": c["reasons"]},
    ),
    ("PUT", "/v1/disqualification-reasons/order"): Row(
        admins(200), World.reasons, body=lambda c: {"ids": c["ids"]}
    ),
    ("GET", "/v1/disqualification-reasons/{reason_id}"): Row(everyone(200), World.reason),
    ("PATCH", "/v1/disqualification-reasons/{reason_id}"): Row(
        admins(200), World.reason, body=lambda c: {"label": unique("Reason")}
    ),
    ("DELETE", "/v1/disqualification-reasons/{reason_id}"): Row(admins(204), World.reason),
    ("GET", "/v1/lead-types"): Row(everyone(200)),
    ("POST", "/v1/lead-types"): Row(admins(201), body=lambda c: {"label": unique("Type")}),
    ("GET", "/v1/lead-types/{type_id}"): Row(everyone(200), World.lead_type),
    ("PATCH", "/v1/lead-types/{type_id}"): Row(
        admins(200), World.lead_type, body=lambda c: {"label": unique("Type")}
    ),
    ("DELETE", "/v1/lead-types/{type_id}"): Row(admins(204), World.lead_type),
    ("GET", "/v1/lead-labels"): Row(everyone(200)),
    ("GET", "/v1/audit-log"): Row(admins(200)),
    # Stage chains: everyone reads them, admins edit and comment (PERM-2).
    ("GET", CHAIN): Row(everyone(200), World.chain),
    ("PUT", CHAIN): Row(admins(200), World.pipeline, body=lambda c: {"actions": [ACTION]}),
    ("POST", f"{CHAIN}/actions"): Row(admins(201), World.chain, body=lambda c: {"action": ACTION}),
    ("PATCH", f"{CHAIN}/actions/{{action_id}}"): Row(
        admins(200), World.chain, body=lambda c: {"config": {"title": "Call again"}}
    ),
    ("DELETE", f"{CHAIN}/actions/{{action_id}}"): Row(admins(200), World.chain),
    ("POST", f"{CHAIN}/actions/{{action_id}}/comments"): Row(
        admins(201), World.chain, body=lambda c: {"text": "Wait for a reply first?"}
    ),
    ("POST", f"{CHAIN}:dry-run"): Row(
        everyone(200), World.lead, body=lambda c: {"lead_id": c["lead_id"]}
    ),
    ("GET", "/v1/leads/{lead_id}/chains"): Row(everyone(200), World.lead),
    # Chain settings (ACT-7): read like the chain, changed by admins.
    ("GET", f"{CHAIN}/settings"): Row(everyone(200), World.chain),
    ("PATCH", f"{CHAIN}/settings"): Row(
        admins(200), World.chain, body=lambda c: {"name": unique("Chain")}
    ),
    # The sales workspace (PERM-3, PERM-4, PERM-8).
    ("GET", "/v1/tasks"): Row(
        # Another rep may not list the owner's tasks; only a super admin may.
        workspace(200, other_user=403),
        query=lambda c: {"user_id": c["owner_id"]},
        late=frozenset({"other_user"}),
    ),
    ("POST", "/v1/tasks"): Row(
        # A task of one's own needs a seat, even for a super admin.
        workspace(201, other_user=201, super_admin=403),
        body=lambda c: {"title": "Call Jo"},
        late=frozenset({"super_admin"}),
    ),
    ("GET", "/v1/tasks/{task_id}"): Row(workspace(200), World.task),
    ("PATCH", "/v1/tasks/{task_id}"): Row(
        workspace(200), World.task, body=lambda c: {"priority": "high"}
    ),
    ("POST", "/v1/tasks/{task_id}/complete"): Row(workspace(200), World.task),
    # The deals tab (PERM-3; PERM-7: another rep with `deals: all` sees the owner's deals; a
    # super admin sees others' deals without a seat, but needs one for their own).
    ("GET", "/v1/deals"): Row(
        deals_tab(200), query=lambda c: {"owner_id": c["owner_id"], "view": "all_open"}
    ),
    ("POST", "/v1/deals:search"): Row(
        deals_tab(200),
        body=lambda c: {"filters": [{"property": "owner_id", "op": "eq", "value": c["owner_id"]}]},
    ),
    ("GET", "/v1/users/me/deal-columns"): Row(
        deals_tab(200, super_admin=403), late=frozenset({"super_admin"})
    ),
    ("PUT", "/v1/users/me/deal-columns"): Row(
        deals_tab(200, super_admin=403),
        body=lambda c: {"columns": ["name", "amount", "close_date"]},
        late=frozenset({"super_admin"}),
    ),
    ("GET", "/v1/deals/{deal_id}/overview"): Row(deals_tab(200), World.deal),
    ("GET", "/v1/deals/{deal_id}/insights"): Row(deals_tab(200), World.deal),
    ("POST", "/v1/deals/{deal_id}/insights/feedback"): Row(
        deals_tab(201), World.deal, body=lambda c: {"helpful": False, "comment": "Too short"}
    ),
    # Deal insights' switch (DEAL-9): everyone reads it, admins flip it.
    ("GET", "/v1/settings/ai"): Row(everyone(200)),
    ("PUT", "/v1/settings/ai"): Row(admins(200), body=lambda c: {"customer_analysis": True}),
    ("POST", "/v1/tasks:bulk"): Row(
        # The answer is 200 to whoever may bulk-edit; another rep's item inside it is a 403.
        workspace(200, other_user=200),
        World.task,
        body=lambda c: {"action": "edit", "task_ids": [c["task_id"]], "changes": {"type": "call"}},
    ),
    # Workspace views: the owner's own, or a super admin's view of them; another rep naming
    # the owner is refused by the service (PERM-4).
    ("GET", "/v1/workspace/summary"): Row(
        workspace(200, other_user=403),
        query=lambda c: {"user_id": c["owner_id"]},
        late=frozenset({"other_user"}),
    ),
    ("GET", "/v1/workspace/schedule"): Row(
        workspace(200, other_user=403),
        query=lambda c: {"user_id": c["owner_id"], "range": "week"},
        late=frozenset({"other_user"}),
    ),
    ("GET", "/v1/workspace/leads"): Row(
        workspace(200, other_user=403),
        query=lambda c: {"user_id": c["owner_id"]},
        late=frozenset({"other_user"}),
    ),
    # Guided actions (PERM-8): the owner's, or a super admin's view of them; to another rep
    # an action does not exist (404), and naming the owner in the list is refused (PERM-4).
    ("GET", "/v1/guided-actions"): Row(
        workspace(200, other_user=403),
        query=lambda c: {"user_id": c["owner_id"], "category": "prospecting"},
        late=frozenset({"other_user"}),
    ),
    ("GET", "/v1/guided-actions/{action_id}"): Row(workspace(200), World.guided_action),
    ("GET", "/v1/guided-actions/{action_id}/records"): Row(workspace(200), World.guided_action),
    ("POST", "/v1/guided-actions/{action_id}/items/{object}/{item_id}/done"): Row(
        workspace(200), World.guided_action
    ),
    ("POST", "/v1/guided-actions/{action_id}/feedback"): Row(
        workspace(200), World.guided_action, body=lambda c: {"useful": True}
    ),
    # The feed is the caller's own (PERM-6): every seated rep reads theirs; the super admin
    # has no seat, so no feed of their own.
    ("GET", "/v1/workspace/feed"): Row(
        workspace(200, other_user=200, super_admin=403), late=frozenset({"super_admin"})
    ),
}
