"""The records a request of the access table needs, made fresh for each test so that a request
that succeeds (a delete, a stage move) never changes what the next caller meets."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.integration.eventually import eventually
from tests.stack import Api, StackOrchestrator

Context = dict[str, Any]


@dataclass(frozen=True)
class Callers:
    tokens: dict[str, str | None]
    ids: dict[str, int]

    def headers(self, caller: str) -> dict[str, str]:
        token = self.tokens[caller]
        return {"Authorization": f"Bearer {token}"} if token else {}


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class World:
    """Makes records as the super admin; what belongs to someone belongs to `owner`."""

    admin: Api
    owner: Api
    owner_id: int
    # Delivers guided-action evaluations only for the records guided_action() makes.
    orchestrator: StackOrchestrator

    async def nothing(self) -> Context:
        return {"owner_id": self.owner_id}

    async def contact(self) -> Context:
        body = {"first_name": "Jo", "last_name": "Lee", "owner_id": self.owner_id}
        contact = await self.admin.ok("post", "/contacts", body, status=201)
        return {"owner_id": self.owner_id, "contact_id": contact["id"]}

    async def company(self) -> Context:
        body = {"name": unique("Acme"), "owner_id": self.owner_id}
        company = await self.admin.ok("post", "/companies", body, status=201)
        return {"owner_id": self.owner_id, "company_id": company["id"]}

    async def pipeline(self) -> Context:
        """A lead pipeline of its own (not the default): New, Working, Won, Lost."""
        stages = [
            {"label": "New", "kind": "open"},
            {"label": "Working", "kind": "open"},
            {"label": "Won", "kind": "qualified"},
            {"label": "Lost", "kind": "disqualified"},
        ]
        body = {"object": "lead", "label": unique("Pipeline"), "stages": stages}
        pipeline = await self.admin.ok("post", "/pipelines", body, status=201)
        ids = [s["id"] for s in pipeline["stages"]]
        return {
            "owner_id": self.owner_id,
            "pipeline_id": pipeline["id"],
            "stage_id": ids[0],
            "stage_ids": ids,
        }

    async def extra_stage(self) -> Context:
        """A pipeline with a stage no rule uses, so deleting it is allowed."""
        ctx = await self.pipeline()
        stage = await self.admin.ok(
            "post",
            f"/pipelines/{ctx['pipeline_id']}/stages",
            {"label": "Extra", "kind": "open"},
            status=201,
        )
        return {**ctx, "stage_id": stage["id"]}

    async def automation(self) -> Context:
        ctx = await self.pipeline()
        rules = await self.admin.ok("get", f"/pipelines/{ctx['pipeline_id']}/automation")
        rules.pop("create_lead_on_lifecycle", None)
        return {**ctx, "automation": rules}

    async def lead(self) -> Context:
        """The owner's lead in the first stage of a pipeline of its own, its workflow running."""
        ctx = {**await self.pipeline(), **await self.contact()}
        body = {
            "contact_id": ctx["contact_id"],
            "pipeline_id": ctx["pipeline_id"],
            "owner_id": self.owner_id,
        }
        lead = await self.admin.ok("post", "/leads", body, status=201)
        return {**ctx, "lead_id": lead["id"]}

    async def chain(self) -> Context:
        """A pipeline whose first stage has a chain of one action."""
        ctx = await self.pipeline()
        action = {"type": "create_task", "config": {"title": "Call", "due_in": "P1D"}}
        chain = await self.admin.ok(
            "put",
            f"/pipelines/{ctx['pipeline_id']}/stages/{ctx['stage_id']}/chain",
            {"actions": [action]},
        )
        return {**ctx, "action_id": chain["actions"][0]["id"]}

    async def deal(self) -> Context:
        body = {"name": unique("Deal"), "owner_id": self.owner_id}
        deal = await self.admin.ok("post", "/deals", body, status=201)
        return {"owner_id": self.owner_id, "deal_id": deal["id"]}

    async def task(self) -> Context:
        task = await self.owner.ok("post", "/tasks", {"title": "Call Jo"}, status=201)
        return {"owner_id": self.owner_id, "task_id": task["id"]}

    async def reason(self) -> Context:
        reason = await self.admin.ok(
            "post", "/disqualification-reasons", {"label": unique("Reason")}, status=201
        )
        return {"reason_id": reason["id"]}

    async def reasons(self) -> Context:
        """The shared list as it is, so that saving it back changes nothing for later tests."""
        reasons = await self.admin.ok("get", "/disqualification-reasons")
        return {
            "ids": [r["id"] for r in reasons],
            "reasons": [{"id": r["id"], "label": r["label"]} for r in reasons],
        }

    async def lead_type(self) -> Context:
        made = await self.admin.ok("post", "/lead-types", {"label": unique("Type")}, status=201)
        return {"type_id": made["id"]}

    async def user(self) -> Context:
        body = {
            "email": f"{uuid.uuid4().hex[:12]}@example.com",
            "name": "Rep",
            "role": "sales_user",
        }
        user = await self.admin.ok("post", "/users", body, status=201)
        return {"user_id": user["id"]}

    async def meeting(self) -> Context:
        """A meeting in the owner's calendar, made by the owner."""
        body = {"title": "Demo", "start": now(), "end": now()}
        meeting = await self.owner.ok("post", "/meetings", body, status=201)
        return {"owner_id": self.owner_id, "meeting_id": meeting["id"]}

    async def call(self) -> Context:
        """A call of the owner's, posted by a service as an activity."""
        ctx = await self.contact()
        body = {
            "event_id": uuid.uuid4().hex,
            "type": "call",
            "occurred_at": now(),
            "user_id": self.owner_id,
            "contact_id": ctx["contact_id"],
            "call": {"status": "completed"},
        }
        activity = await self.admin.ok("post", "/activities", body, status=202)
        return {**ctx, "call_id": activity["call_id"]}

    async def sequence(self) -> Context:
        ctx = await self.contact()
        made = await self.admin.ok("post", "/sequences", {"name": unique("Sequence")}, status=201)
        return {**ctx, "sequence_id": made["id"]}

    async def contact_list(self) -> Context:
        made = await self.admin.ok("post", "/lists", {"name": unique("List")}, status=201)
        return {"list_id": made["id"]}

    async def enrollment(self) -> Context:
        ctx = await self.sequence()
        await self.admin.ok(
            "post",
            f"/sequences/{ctx['sequence_id']}/enrollments",
            {"contact_id": ctx["contact_id"]},
            status=201,
        )
        return ctx

    async def guided_action(self) -> Context:
        """The owner's "Newly assigned leads" action (GA-11), listing a new lead of theirs."""
        with self.orchestrator.guided_evaluations():
            return await self._guided_action()

    async def _guided_action(self) -> Context:
        ctx = await self.lead()

        async def listed() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = await self.owner.ok("get", "/guided-actions")
            return [
                a
                for a in found
                if a["type"] == "newly_assigned_leads"
                and any(i["id"] == ctx["lead_id"] for i in a["items"])
            ]

        # Evaluation runs behind the outbox, after whatever earlier tests changed.
        actions = await eventually(listed, bool, timeout=60.0)
        assert actions, f"no guided action lists lead {ctx['lead_id']}"
        return {**ctx, "action_id": actions[0]["id"], "object": "lead", "item_id": ctx["lead_id"]}
