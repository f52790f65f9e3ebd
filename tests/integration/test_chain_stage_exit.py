"""A chain step never starts once its lead has left the stage (ACT-1: a chain runs for its stage
entry), even when the run hears of the exit late: real PostgreSQL, Temporal and worker."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import func, select, text

from config import Settings
from db.engine import SessionFactory
from db.models import ChainEffect, Deal, EmailOutboxMessage, Lead, Task, WebhookCall
from db.repositories import leads as leads_repo
from domain.chains import Action, assign_ids, parse_actions
from services import chain_effects
from tests.integration.eventually import eventually
from tests.integration.test_chains_end_to_end import mail_log, move, runs_of, wait_for_runs
from tests.integration.webhook_receiver import Receiver
from tests.stack import Api, MakePipeline

ROUNDS = 3


async def new_contact(admin: Api) -> dict[str, Any]:
    body = {
        "first_name": "Eve",
        "last_name": "Exit",
        "email": f"eve-{uuid.uuid4().hex}@example.com",
    }
    contact: dict[str, Any] = await admin.ok("post", "/contacts", body, status=201)
    return contact


async def emails_of(session_factory: SessionFactory, lead_ids: list[int]) -> list[str]:
    async with session_factory() as session:
        rows = await session.scalars(
            select(EmailOutboxMessage.to_address).where(EmailOutboxMessage.lead_id.in_(lead_ids))
        )
        return list(rows.all())


@asynccontextmanager
async def steps_held(
    session_factory: SessionFactory,
) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Hold back every chain step's first write (its `running` record) until the block ends;
    yields a wait for a step to be held. So a step scheduled while the lead was in the stage
    starts its effect only after the lead has left, whenever the run hears of the exit: the
    gap the issue saw (a send_email step starting 22 ms after the exit), made certain."""
    async with session_factory() as holder, holder.begin():
        await holder.execute(text("LOCK TABLE chain_steps IN SHARE MODE"))

        async def a_step_waits() -> None:
            async def waiting() -> int:
                async with session_factory() as session:
                    query = (
                        "SELECT count(*) FROM pg_locks "
                        "WHERE relation = 'chain_steps'::regclass AND NOT granted"
                    )
                    return int(await session.scalar(text(query)) or 0)

            assert await eventually(waiting, lambda n: n > 0) > 0

        yield a_step_waits


class TestMovedInAndOutAtOnce:
    async def test_no_email_goes_out_for_a_lead_that_already_left_act_1(
        self,
        admin: Api,
        make_pipeline: MakePipeline,
        make_lead,
        settings: Settings,
        session_factory: SessionFactory,
    ) -> None:
        pipeline = await make_pipeline()
        new, working, talking = (s["id"] for s in pipeline["stages"][:3])
        email = {"type": "send_email", "config": {"subject": "Welcome", "body": "Hi"}}
        await admin.ok(
            "put", f"/pipelines/{pipeline['id']}/stages/{working}/chain", {"actions": [email]}
        )
        leads, addresses = [], []
        for _ in range(ROUNDS):
            contact = await new_contact(admin)
            lead = await make_lead(
                pipeline_id=pipeline["id"], stage_id=new, contact_id=contact["id"]
            )
            async with steps_held(session_factory) as a_step_waits:
                await move(admin, lead["id"], working)
                await a_step_waits()  # the send_email step is under way
                await move(admin, lead["id"], talking)  # and the lead leaves meanwhile
            leads.append(lead["id"])
            addresses.append(contact["email"])

        for lead_id in leads:
            (run,) = await wait_for_runs(admin, lead_id, ["stopped"])
            assert [(s["type"], s["status"]) for s in run["steps"]] == [("send_email", "skipped")]
            assert run["steps"][0]["result"]["left_stage"] is True
        assert await emails_of(session_factory, leads) == []
        log = mail_log(settings)
        assert [a for a in addresses if a in log] == []


def one(raw: dict[str, Any]) -> Action:
    (action,) = parse_actions(assign_ids([raw]))
    return action


EFFECTS: dict[str, tuple[dict[str, Any], Any]] = {
    "create_task": ({"type": "create_task", "config": {"title": "Call"}}, Task),
    "send_email": ({"type": "send_email", "config": {"subject": "Hi", "body": "Hi"}}, None),
    "set_property": (
        {"type": "set_property", "config": {"property": "lead.label", "value": "hot"}},
        ChainEffect,
    ),
    "create_deal": ({"type": "create_deal", "config": {"name": "Deal"}}, Deal),
    "notify_owner": ({"type": "notify_owner", "config": {"message": "Look"}}, Task),
    "webhook": ({"type": "webhook", "config": {"url": "", "secret": "s3cret-key"}}, WebhookCall),
}


class TestAStepAfterTheExit:
    @pytest.mark.parametrize("kind", list(EFFECTS))
    async def test_an_effect_for_a_stage_entry_the_lead_left_does_nothing_act_1(
        self,
        kind: str,
        admin: Api,
        make_lead,
        make_user,
        lead_stages: dict[str, int],
        session_factory: SessionFactory,
        receiver: Receiver,
        webhook_http,
    ) -> None:
        """The step the workflow scheduled before it heard of the exit: checked under the
        lead's row lock, so it records a skip and writes nothing, whatever the effect."""
        owner, _ = await make_user("sales_user", seat="current")
        contact = await new_contact(admin)
        lead = await make_lead(contact_id=contact["id"], owner_id=owner["id"])
        async with session_factory() as session:
            entered = await leads_repo.stage_entry_id(session, lead["id"], lead["stage_id"])
        assert entered is not None
        await move(admin, lead["id"], lead_stages["Connected"])  # the lead leaves that entry

        raw, model = EFFECTS[kind]
        if kind == "webhook":
            raw = {**raw, "config": {**raw["config"], "url": receiver.url}}
        key = f"chain-{lead['id']}-{entered}-v1/{uuid.uuid4().hex[:8]}/1"
        async with session_factory() as session:
            result = await chain_effects.perform(
                session,
                key,
                lead["id"],
                one(raw),
                http=webhook_http,
                stage_entry_id=entered,
            )
        assert result == {"skipped": "the lead had left the stage", "left_stage": True}
        async with session_factory() as session:
            if model is not None:
                column = model.idempotency_key
                written = await session.scalar(
                    select(func.count()).select_from(model).where(column == key)
                )
                assert written == 0
            assert await emails_of(session_factory, [lead["id"]]) == []
            stored = await session.get(Lead, lead["id"])
            assert stored is not None and stored.label is None
        assert receiver.calls == []

    async def test_an_effect_for_the_current_stage_entry_happens_act_1(
        self, admin: Api, make_lead, session_factory: SessionFactory, webhook_http
    ) -> None:
        lead = await make_lead()
        async with session_factory() as session:
            entered = await leads_repo.stage_entry_id(session, lead["id"], lead["stage_id"])
        key = f"chain-{lead['id']}-{entered}-v1/{uuid.uuid4().hex[:8]}/1"
        raw = {"type": "set_property", "config": {"property": "lead.label", "value": "warm"}}
        async with session_factory() as session:
            result = await chain_effects.perform(
                session, key, lead["id"], one(raw), http=webhook_http, stage_entry_id=entered
            )
        assert result == {"property": "lead.label", "from": None, "to": "warm"}
        assert (await admin.ok("get", f"/leads/{lead['id']}"))["label"] == "warm"
        assert await runs_of(admin, lead["id"]) == []
