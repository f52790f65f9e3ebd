"""Stage action chains end to end: HTTP -> API -> Temporal dev server -> worker -> PostgreSQL.

An admin saves a chain, a lead enters the stage (by hand or by an activity that automation turns
into the move), and the chain's effects show where users and services see them: the owner's
tasks, the mail log, the lead's properties, a webhook receiver, the lead's chain runs.
"""

import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from config import Settings
from db.engine import SessionFactory
from db.models import EmailOutboxMessage
from services.email import MAIL_LOG
from tests.integration.eventually import eventually
from tests.integration.webhook_receiver import Receiver
from tests.stack import Api, MakePipeline, MakeUser

SECRET = "chain-e2e-secret"


def activity(type_: str, lead_id: int) -> dict[str, Any]:
    return {
        "event_id": f"ev-{uuid.uuid4().hex}",
        "type": type_,
        "occurred_at": datetime.now(UTC).isoformat(),
        "lead_id": lead_id,
    }


def create_task(title: str) -> dict[str, Any]:
    return {"type": "create_task", "config": {"title": title, "due_in": "P1D"}}


def wait_for_reply() -> dict[str, Any]:
    return {"type": "delay", "config": {"until_event": "email_reply", "timeout": "P1D"}}


async def runs_of(admin: Api, lead_id: int) -> list[dict[str, Any]]:
    page: dict[str, Any] = await admin.ok("get", f"/leads/{lead_id}/chains")
    runs: list[dict[str, Any]] = page["items"]
    return runs


async def wait_for_runs(
    admin: Api, lead_id: int, statuses: list[str], timeout: float = 20.0
) -> list[dict[str, Any]]:
    """Until the lead's runs, oldest first, have these statuses; returns them."""
    runs = await eventually(
        lambda: runs_of(admin, lead_id),
        lambda rs: [r["status"] for r in rs] == statuses,
        timeout=timeout,
    )
    assert [r["status"] for r in runs] == statuses, runs
    return runs


async def wait_for_step(admin: Api, lead_id: int, action_id: str, status: str) -> dict[str, Any]:
    """Until the lead's latest run has this action's step in `status`."""

    def step_of(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
        steps = [s for s in runs[-1]["steps"] if s["action_id"] == action_id] if runs else []
        return steps[0] if steps else None

    runs = await eventually(
        lambda: runs_of(admin, lead_id),
        lambda rs: (step := step_of(rs)) is not None and step["status"] == status,
    )
    step = step_of(runs)
    assert step is not None and step["status"] == status, runs
    return step


async def move(admin: Api, lead_id: int, stage_id: int) -> dict[str, Any]:
    moved: dict[str, Any] = await admin.ok(
        "post", f"/leads/{lead_id}/stage", {"stage_id": stage_id}
    )
    assert moved["stage_id"] == stage_id
    return moved


def mail_log(settings: Settings) -> str:
    path = settings.data_dir / MAIL_LOG
    return path.read_text(encoding="utf-8") if path.exists() else ""


@pytest.fixture
async def attempting_chain(admin: Api, lead_stages: dict[str, int]) -> AsyncIterator[str]:
    """The chain path of the default pipeline's Attempting stage, emptied again afterwards:
    the tests share one database, and other tests move leads into Attempting."""
    pipelines = await admin.ok("get", "/pipelines?object=lead")
    default = next(p for p in pipelines if p["is_default"])
    path = f"/pipelines/{default['id']}/stages/{lead_stages['Attempting']}/chain"
    try:
        yield path
    finally:
        await admin.ok("put", path, {"actions": []})


@pytest.fixture
async def owner(make_user: MakeUser) -> tuple[dict[str, Any], Api]:
    return await make_user("sales_user", seat="current")


@pytest.fixture
async def contact(admin: Api) -> dict[str, Any]:
    body = {
        "first_name": "Ada",
        "last_name": "Chain",
        "email": f"ada-{uuid.uuid4().hex[:8]}@example.com",
    }
    created: dict[str, Any] = await admin.ok("post", "/contacts", body, status=201)
    return created


FULL_CHAIN: list[dict[str, Any]] = [
    create_task("Call {{contact.first_name}}"),
    {
        "type": "send_email",
        "config": {"subject": "Hello {{contact.first_name}}", "body": "Hi {{contact.first_name}}"},
    },
    {"type": "set_property", "config": {"property": "lead.label", "value": "hot"}},
    {"type": "notify_owner", "config": {"message": "{{contact.first_name}} is being worked"}},
]


class TestAChainRunsOnStageEntry:
    async def check_full_chain(
        self,
        admin: Api,
        owner: tuple[dict[str, Any], Api],
        contact: dict[str, Any],
        lead: dict[str, Any],
        saved: dict[str, Any],
        settings: Settings,
        session_factory: SessionFactory,
    ) -> None:
        (run,) = await wait_for_runs(admin, lead["id"], ["completed"])
        assert run["version"] == saved["version"]
        assert run["stage_id"] == saved["stage_id"]
        assert [(s["action_id"], s["type"], s["status"]) for s in run["steps"]] == [
            (a["id"], a["type"], "completed") for a in saved["actions"]
        ]
        # Both tasks (create_task, notify_owner) are the owner's, linked to the lead.
        user, as_owner = owner
        tasks = (await as_owner.ok("get", "/tasks?view=all"))["items"]
        assert sorted(t["title"] for t in tasks) == ["Ada is being worked", "Call Ada"]
        assert {(t["lead_id"], t["owner_id"]) for t in tasks} == {(lead["id"], user["id"])}
        by_title = {t["title"]: t for t in tasks}
        assert by_title["Call Ada"]["due_at"] is not None
        # The email went out (no SMTP configured: to the mail log) and the outbox says sent.
        email_step = run["steps"][1]["result"]
        assert email_step["to"] == contact["email"] and email_step["status"] == "sent"
        async with session_factory() as session:
            emails = (
                await session.scalars(
                    select(EmailOutboxMessage).where(EmailOutboxMessage.lead_id == lead["id"])
                )
            ).all()
        assert [(e.to_address, e.subject, e.status) for e in emails] == [
            (contact["email"], "Hello Ada", "sent")
        ]
        log = mail_log(settings)
        assert f"To: {contact['email']}" in log
        assert f"X-Leadpipe-Idempotency-Key: {emails[0].idempotency_key}" in log
        assert emails[0].idempotency_key == f"{run['workflow_id']}/{saved['actions'][1]['id']}/1"
        assert (await admin.ok("get", f"/leads/{lead['id']}"))["label"] == "hot"

    async def test_a_move_by_hand_runs_every_step_once(
        self,
        admin,
        attempting_chain,
        owner,
        contact,
        make_lead,
        lead_stages,
        settings,
        session_factory,
    ) -> None:
        saved = await admin.ok("put", attempting_chain, {"actions": FULL_CHAIN})
        lead = await make_lead(contact_id=contact["id"], owner_id=owner[0]["id"])
        assert await runs_of(admin, lead["id"]) == []
        await move(admin, lead["id"], lead_stages["Attempting"])
        await self.check_full_chain(admin, owner, contact, lead, saved, settings, session_factory)

    async def test_an_email_sent_activity_moves_the_lead_and_runs_the_chain(
        self,
        admin,
        attempting_chain,
        owner,
        contact,
        make_lead,
        lead_stages,
        settings,
        session_factory,
    ) -> None:
        saved = await admin.ok("put", attempting_chain, {"actions": FULL_CHAIN})
        lead = await make_lead(contact_id=contact["id"], owner_id=owner[0]["id"])
        assert lead["stage_id"] != lead_stages["Attempting"]
        await admin.ok("post", "/activities", activity("email_sent", lead["id"]), status=202)
        await self.check_full_chain(admin, owner, contact, lead, saved, settings, session_factory)
        history = await admin.ok("get", f"/leads/{lead['id']}/history")
        assert history[-1]["cause"] == "automation:advance_on_outreach"


class TestVersionsAndStops:
    async def test_a_run_keeps_its_version_and_a_later_entry_takes_the_new_one(
        self, admin, make_pipeline: MakePipeline, make_lead, owner
    ) -> None:
        # A pipeline of its own: no automation moves a lead there on an email reply.
        pipeline = await make_pipeline()
        new, working = (s["id"] for s in pipeline["stages"][:2])
        path = f"/pipelines/{pipeline['id']}/stages/{working}/chain"
        v1 = await admin.ok("put", path, {"actions": [wait_for_reply(), create_task("v1 task")]})
        first = await make_lead(pipeline_id=pipeline["id"], stage_id=new, owner_id=owner[0]["id"])
        await move(admin, first["id"], working)
        await wait_for_step(admin, first["id"], v1["actions"][0]["id"], "waiting")

        v2 = await admin.ok("put", path, {"actions": [create_task("v2 task")]})
        assert v2["version"] == v1["version"] + 1
        second = await make_lead(pipeline_id=pipeline["id"], stage_id=new, owner_id=owner[0]["id"])
        await move(admin, second["id"], working)
        (run,) = await wait_for_runs(admin, second["id"], ["completed"])
        assert run["version"] == v2["version"]
        # The first run is still waiting, on version 1, while version 2 runs elsewhere.
        (waiting,) = await runs_of(admin, first["id"])
        assert (waiting["version"], waiting["status"]) == (v1["version"], "running")

        await admin.ok("post", "/activities", activity("email_reply", first["id"]), status=202)
        (done,) = await wait_for_runs(admin, first["id"], ["completed"])
        assert done["version"] == v1["version"]
        assert done["steps"][0]["result"]["ended_by"] == "event"
        assert await task_titles(owner[1], first["id"]) == ["v1 task"]
        assert await task_titles(owner[1], second["id"]) == ["v2 task"]

    async def test_leaving_the_stage_mid_chain_stops_the_run(
        self, admin, make_pipeline: MakePipeline, make_lead, owner
    ) -> None:
        pipeline = await make_pipeline()
        new, working, talking = (s["id"] for s in pipeline["stages"][:3])
        path = f"/pipelines/{pipeline['id']}/stages/{working}/chain"
        saved = await admin.ok(
            "put",
            path,
            {"actions": [create_task("before"), wait_for_reply(), create_task("after")]},
        )
        lead = await make_lead(pipeline_id=pipeline["id"], stage_id=new, owner_id=owner[0]["id"])
        await move(admin, lead["id"], working)
        await wait_for_step(admin, lead["id"], saved["actions"][1]["id"], "waiting")

        await move(admin, lead["id"], talking)
        (run,) = await wait_for_runs(admin, lead["id"], ["stopped"])
        assert run["ended_at"] is not None
        assert [(s["type"], s["status"]) for s in run["steps"]] == [
            ("create_task", "completed"),
            ("delay", "completed"),
        ]
        assert run["steps"][1]["result"]["ended_by"] == "stop"
        assert await task_titles(owner[1], lead["id"]) == ["before"]


async def task_titles(as_owner: Api, lead_id: int) -> list[str]:
    page = await as_owner.ok("get", f"/tasks?view=all&lead_id={lead_id}")
    return sorted(t["title"] for t in page["items"])


class TestWebhook:
    async def test_the_receiver_gets_one_signed_post_with_an_idempotency_key(
        self, admin, make_pipeline: MakePipeline, make_lead, receiver: Receiver
    ) -> None:
        pipeline = await make_pipeline()
        new, working = (s["id"] for s in pipeline["stages"][:2])
        path = f"/pipelines/{pipeline['id']}/stages/{working}/chain"
        hook = {
            "type": "webhook",
            "config": {"url": receiver.url, "secret": SECRET, "payload": {"source": "e2e"}},
        }
        saved = await admin.ok("put", path, {"actions": [hook]})
        lead = await make_lead(pipeline_id=pipeline["id"], stage_id=new)
        await move(admin, lead["id"], working)
        (run,) = await wait_for_runs(admin, lead["id"], ["completed"])
        assert run["steps"][0]["result"]["status_code"] == 200

        (headers, body) = receiver.calls[0]
        assert len(receiver.calls) == 1
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Leadpipe-Signature"], expected)
        key = f"{run['workflow_id']}/{saved['actions'][0]['id']}/1"
        assert headers["X-Leadpipe-Idempotency-Key"] == key
        payload = json.loads(body)
        assert (payload["lead_id"], payload["idempotency_key"]) == (lead["id"], key)
        assert payload["data"] == {"source": "e2e"}

    async def test_a_receiver_refusing_with_a_4xx_fails_the_step_at_once(
        self, admin, make_pipeline: MakePipeline, make_lead, receiver: Receiver
    ) -> None:
        pipeline = await make_pipeline()
        new, working = (s["id"] for s in pipeline["stages"][:2])
        path = f"/pipelines/{pipeline['id']}/stages/{working}/chain"
        hook = {"type": "webhook", "config": {"url": receiver.url, "secret": SECRET}}
        saved = await admin.ok("put", path, {"actions": [hook, create_task("never")]})
        receiver.statuses = [400]
        lead = await make_lead(pipeline_id=pipeline["id"], stage_id=new)
        await move(admin, lead["id"], working)
        # A refusal is final: no retry of the activity, the rest of the chain never runs.
        (run,) = await wait_for_runs(admin, lead["id"], ["failed"], timeout=10)
        assert [(s["action_id"], s["status"]) for s in run["steps"]] == [
            (saved["actions"][0]["id"], "failed")
        ]
        assert run["steps"][0]["error"]
        assert len(receiver.calls) == 1
