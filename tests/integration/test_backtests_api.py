"""Backtests through the API against stored past activity (AUT-2 to AUT-8, ACT-1).

Each test stores its own past, years back in a window of its own, so leads other tests create
now (in the same default pipeline) lie outside it: they did not exist yet.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from db.models import (
    Activity,
    ChainRun,
    ChainStep,
    Company,
    Contact,
    Lead,
    LeadStageChange,
    User,
)
from db.repositories import backtests as repo
from domain.automation import AutomationConfig
from services import backtests
from services.backtests import Limits, WindowAsked
from services.chain_context import CONTEXT_COLUMNS, build_context, context_of_values


def past_window() -> tuple[datetime, datetime]:
    """A 30-day window of its own, somewhere in 1950-2000."""
    start = datetime(1950, 1, 1, tzinfo=UTC) + timedelta(days=40 * (uuid.uuid4().int % 450))
    return start, start + timedelta(days=30)


def window_body(start: datetime, end: datetime) -> dict[str, str]:
    return {"start": start.isoformat(), "end": end.isoformat()}


class Past:
    """Stored leads, stage changes and activities at chosen times."""

    def __init__(self, session_factory, pipeline_id: int, start: datetime) -> None:
        self.factory = session_factory
        self.pipeline_id = pipeline_id
        self.start = start

    def at(self, hours: float) -> datetime:
        return self.start + timedelta(hours=hours)

    async def lead(self, stage_id: int, *, email: str | None = "jo@example.com") -> int:
        async with self.factory() as session, session.begin():
            contact = Contact(first_name="Jo", email=email)
            session.add(contact)
            await session.flush()
            lead = Lead(
                name="Jo", pipeline_id=self.pipeline_id, stage_id=stage_id, contact_id=contact.id
            )
            session.add(lead)
            await session.flush()
            session.add(
                LeadStageChange(
                    lead_id=lead.id, at=self.at(-24), to_stage_id=stage_id, cause="created"
                )
            )
            return lead.id

    async def move(self, lead_id: int, hours: float, start: int, end: int, cause: str) -> None:
        async with self.factory() as session, session.begin():
            session.add(
                LeadStageChange(
                    lead_id=lead_id,
                    at=self.at(hours),
                    from_stage_id=start,
                    to_stage_id=end,
                    cause=cause,
                )
            )
            lead = await session.get(Lead, lead_id)
            assert lead is not None
            lead.stage_id = end

    async def activity(
        self, lead_id: int, hours: float, type_: str, details: dict[str, Any] | None = None
    ) -> None:
        async with self.factory() as session, session.begin():
            session.add(
                Activity(
                    event_id=uuid.uuid4().hex,
                    type=type_,
                    occurred_at=self.at(hours),
                    created_at=self.at(hours + 0.01),
                    lead_id=lead_id,
                    delivered_lead_ids=[lead_id],
                    details=details or {},
                )
            )

    async def run(self, lead_id: int, stage_id: int, hours: float, *steps: str) -> None:
        async with self.factory() as session, session.begin():
            run = ChainRun(
                lead_id=lead_id,
                pipeline_id=self.pipeline_id,
                stage_id=stage_id,
                version=1,
                workflow_id=f"chain-past-{uuid.uuid4().hex}",
                status="completed",
                started_at=self.at(hours),
            )
            session.add(run)
            await session.flush()
            for i, type_ in enumerate(steps):
                session.add(
                    ChainStep(
                        run_id=run.id,
                        action_id=f"a_0000000{i}",
                        type=type_,
                        status="completed",
                        started_at=self.at(hours),
                        result={},
                    )
                )


def examples(result: dict[str, Any], what: str) -> list[int]:
    return [e["lead_id"] for e in result["examples"] if e["what"] == what]


async def default_pipeline(admin) -> tuple[int, dict[str, Any]]:
    pipelines = await admin.ok("get", "/pipelines?object=lead")
    pipeline_id = next(p["id"] for p in pipelines if p["is_default"])
    rules = await admin.ok("get", f"/pipelines/{pipeline_id}/automation")
    return pipeline_id, rules


async def stored_outreach_and_connect(
    session_factory, admin, lead_stages
) -> tuple[Past, list[int]]:
    """Three leads in New: one emailed and replied (two automatic moves), one called (one),
    one with a note (none); the moves stored as automation made them."""
    pipeline_id, _ = await default_pipeline(admin)
    start, _ = past_window()
    past = Past(session_factory, pipeline_id, start)
    new, attempting, connected = (lead_stages[s] for s in ("New", "Attempting", "Connected"))
    replied, called, noted = [await past.lead(new) for _ in range(3)]
    await past.activity(replied, 1, "email_sent")
    await past.move(replied, 1.02, new, attempting, "automation:advance_on_outreach")
    await past.activity(replied, 2, "email_reply")
    await past.move(replied, 2.02, attempting, connected, "automation:advance_on_connect")
    await past.activity(called, 3, "call", {"call": {"status": "completed", "outcome": "busy"}})
    await past.move(called, 3.02, new, attempting, "automation:advance_on_outreach")
    await past.activity(noted, 4, "note")
    return past, [replied, called, noted]


class TestAutomationBacktest:
    async def test_the_rules_in_force_replay_the_stored_moves_exactly_aut_3_aut_4(
        self, admin, session_factory, lead_stages
    ) -> None:
        past, (replied, called, _) = await stored_outreach_and_connect(
            session_factory, admin, lead_stages
        )
        pipeline_id, rules = await default_pipeline(admin)
        body = {**rules, "window": window_body(past.start, past.at(24 * 30))}
        result = await admin.ok("post", f"/pipelines/{pipeline_id}/automation:backtest", body)
        # The contract's counts, proposed beside actual (API.md).
        assert result["moves"] == {"advance_on_outreach": 2, "advance_on_connect": 1}
        assert result["actual"]["moves"] == result["moves"]
        assert examples(result, "moves.advance_on_outreach") == sorted([replied, called])
        assert examples(result, "moves.advance_on_connect") == [replied]
        assert result["differences"]["moves"]["advance_on_outreach"] == {
            "proposed": 2,
            "actual": 2,
            "difference": 0,
            "added": 0,
            "prevented": 0,
            "added_examples": [],
            "prevented_examples": [],
        }
        assert result["leads"] >= 3
        assert result["activities"] == 4
        assert (result["runs_started"], result["actual"]["runs_started"]) == (0, 0)
        assert result["approximate"] is False
        assert result["truncated"] is False
        assert result["window"] == {
            "start": past.start.isoformat().replace("+00:00", "Z"),
            "end": past.at(24 * 30).isoformat().replace("+00:00", "Z"),
        }

    async def test_days_default_to_the_last_30_days(self, admin) -> None:
        pipeline_id, rules = await default_pipeline(admin)
        result = await admin.ok("post", f"/pipelines/{pipeline_id}/automation:backtest", rules)
        start = datetime.fromisoformat(result["window"]["start"])
        end = datetime.fromisoformat(result["window"]["end"])
        assert end - start == timedelta(days=30)
        assert abs(end - datetime.now(UTC)) < timedelta(minutes=5)

    async def test_switching_outreach_off_shows_the_moves_it_would_have_prevented_aut_7(
        self, admin, session_factory, lead_stages
    ) -> None:
        past, (replied, called, _) = await stored_outreach_and_connect(
            session_factory, admin, lead_stages
        )
        pipeline_id, rules = await default_pipeline(admin)
        rules["advance_on_outreach"]["enabled"] = False
        body = {**rules, "window": window_body(past.start, past.at(24 * 30))}
        result = await admin.ok("post", f"/pipelines/{pipeline_id}/automation:backtest", body)
        assert (result["moves"]["advance_on_outreach"], result["actual"]["moves"]) == (
            0,
            {"advance_on_outreach": 2, "advance_on_connect": 1},
        )
        outreach = result["differences"]["moves"]["advance_on_outreach"]
        assert (outreach["difference"], outreach["prevented"]) == (-2, 2)
        assert outreach["prevented_examples"] == sorted([replied, called])
        # Never reaching Attempting, the replied lead is not connected either.
        connect = result["differences"]["moves"]["advance_on_connect"]
        assert (connect["proposed"], connect["prevented_examples"]) == (0, [replied])
        # Nothing changed: the stored rules and the leads are as they were.
        assert (await admin.ok("get", f"/pipelines/{pipeline_id}/automation"))[
            "advance_on_outreach"
        ]["enabled"] is True
        lead = await admin.ok("get", f"/leads/{replied}")
        assert lead["stage_id"] == lead_stages["Connected"]

    async def test_the_body_is_checked_as_saving_checks_it_aut_6(self, admin, lead_stages) -> None:
        pipeline_id, rules = await default_pipeline(admin)
        rules["advance_on_outreach"]["to_stage_id"] = lead_stages["New"]
        problem = await admin.ok(
            "post", f"/pipelines/{pipeline_id}/automation:backtest", rules, status=422
        )
        assert "advance_on_outreach.to_stage_id" in {e["field"] for e in problem["errors"]}

    async def test_a_window_over_90_days_or_in_the_future_is_refused(self, admin) -> None:
        pipeline_id, rules = await default_pipeline(admin)
        now = datetime.now(UTC)
        for window, field in (
            (window_body(now - timedelta(days=100), now - timedelta(days=1)), "window.start"),
            (window_body(now - timedelta(days=1), now + timedelta(days=1)), "window.end"),
        ):
            problem = await admin.ok(
                "post",
                f"/pipelines/{pipeline_id}/automation:backtest",
                {**rules, "window": window},
                status=422,
            )
            assert field in {e["field"] for e in problem["errors"]}
        problem = await admin.ok(
            "post",
            f"/pipelines/{pipeline_id}/automation:backtest",
            {**rules, "days": 91},
            status=422,
        )
        assert problem["errors"][0]["field"].endswith("days")

    async def test_the_replay_stops_at_its_bounds_and_says_so(
        self, admin, session_factory, lead_stages
    ) -> None:
        past, _ = await stored_outreach_and_connect(session_factory, admin, lead_stages)
        pipeline_id, rules = await default_pipeline(admin)
        async with session_factory() as session:
            actor = await session.scalar(select(User).where(User.role == "super_admin").limit(1))
        assert actor is not None
        rules.pop("create_lead_on_lifecycle", None)
        async with session_factory() as session:
            outcome = await backtests.backtest_automation(
                session,
                actor,
                pipeline_id,
                AutomationConfig.model_validate(rules),
                asked=WindowAsked(start=past.start, end=past.at(24 * 30)),
                limits=Limits(leads=1),
            )
        assert outcome.truncated == "stopped after 1 leads (at most 1)"
        assert outcome.leads_considered == 1


class TestChainBacktest:
    async def test_a_proposed_chain_runs_for_each_stored_entry_until_the_lead_leaves_act_1(
        self, admin, session_factory, make_pipeline
    ) -> None:
        pipeline = await make_pipeline()
        new, working, talking = (s["id"] for s in pipeline["stages"][:3])
        start, end = past_window()
        past = Past(session_factory, pipeline["id"], start)
        stays, leaves = await past.lead(new), await past.lead(new)
        await past.move(stays, 1, new, working, "manual")
        await past.move(leaves, 2, new, working, "manual")
        await past.move(leaves, 5, working, talking, "manual")
        await past.run(stays, working, 1, "create_task")
        chain = [
            {"type": "create_task", "config": {"title": "Call"}},
            {"type": "delay", "config": {"duration": "PT10H"}},
            {"type": "send_email", "config": {"subject": "Hi", "body": "Hello"}},
        ]
        result = await admin.ok(
            "post",
            f"/pipelines/{pipeline['id']}/stages/{working}/chain:backtest",
            {"actions": chain, "window": window_body(start, end)},
        )
        assert (result["runs_started"], result["actual"]["runs_started"]) == (2, 1)
        assert result["runs_by_stage"] == {str(working): 2}
        assert result["differences"]["runs_started"][str(working)]["added_examples"] == [leaves]
        assert result["effects"] == {"create_task": 2, "send_email": 1}
        assert result["actual"]["effects"] == {"create_task": 1, "send_email": 0}
        assert examples(result, "effects.send_email") == [stays]
        assert examples(result, f"runs_started.{working}") == sorted([stays, leaves])
        assert result["moves"] == {} and result["actual"]["moves"] == {}
        assert result["leads"] == 2
        assert result["approximate"] is False
        # Nothing was saved: the stage still has no chain.
        saved = await admin.ok("get", f"/pipelines/{pipeline['id']}/stages/{working}/chain")
        assert saved["version"] == 0

    async def test_waiting_for_a_reply_is_approximate_and_uses_stored_replies(
        self, admin, session_factory, make_pipeline
    ) -> None:
        pipeline = await make_pipeline()
        new, working = (s["id"] for s in pipeline["stages"][:2])
        start, end = past_window()
        past = Past(session_factory, pipeline["id"], start)
        replied, silent = await past.lead(new), await past.lead(new)
        for lead_id in (replied, silent):
            await past.move(lead_id, 1, new, working, "manual")
        await past.activity(replied, 5, "email_reply")
        chain = [
            {"type": "delay", "config": {"until_event": "email_reply", "timeout": "P60D"}},
            {"type": "create_task", "config": {"title": "Answer"}},
        ]
        result = await admin.ok(
            "post",
            f"/pipelines/{pipeline['id']}/stages/{working}/chain:backtest",
            {"actions": chain, "window": window_body(start, end)},
        )
        assert examples(result, "effects.create_task") == [replied]
        assert result["approximate"] is True
        assert [r["code"] for r in result["approximate_reasons"]] == ["replies_unknown"]

    async def test_a_broken_chain_is_refused_with_its_path_act_3(
        self, admin, make_pipeline
    ) -> None:
        pipeline = await make_pipeline()
        stage = pipeline["stages"][0]["id"]
        problem = await admin.ok(
            "post",
            f"/pipelines/{pipeline['id']}/stages/{stage}/chain:backtest",
            {"actions": [{"type": "delay", "config": {}}]},
            status=422,
        )
        assert problem["errors"][0]["field"].startswith("actions.0.config")


async def test_a_replayed_run_sees_the_lead_contact_company_and_owner_as_a_run_does_act_1(
    session_factory, lead_stages
) -> None:
    """Backtests read chain contexts as plain columns, thousands at a time; what a branch or
    an email decides on must be what the chain workflow's context activity gives it."""
    async with session_factory() as session, session.begin():
        owner = await session.scalar(select(User).where(User.role == "super_admin").limit(1))
        assert owner is not None
        company = Company(name="Acme", domain="acme.example")
        session.add(company)
        await session.flush()
        contact = Contact(first_name="Jo", email="jo@acme.example", company_id=company.id)
        session.add(contact)
        await session.flush()
        pipeline_id = await session.scalar(select(Lead.pipeline_id).limit(1))
        with_all = Lead(
            name="Jo at Acme",
            pipeline_id=pipeline_id,
            stage_id=lead_stages["New"],
            contact_id=contact.id,
            owner_id=owner.id,
            label="hot",
        )
        bare = Lead(name="Nobody", pipeline_id=pipeline_id, stage_id=lead_stages["New"])
        session.add_all([with_all, bare])
        await session.flush()
        ids = [with_all.id, bare.id]
    async with session_factory() as session:
        read = {
            lead_id: context_of_values(values)
            for lead_id, values in await repo.context_values(session, ids, CONTEXT_COLUMNS)
        }
        assert read == {lead_id: await build_context(session, lead_id) for lead_id in ids}
    assert read[ids[0]].value("company.name") == "Acme"
    assert read[ids[1]].contact == {}
