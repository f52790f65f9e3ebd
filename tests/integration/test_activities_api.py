"""Activity-driven stage automation end to end: HTTP -> API -> Temporal -> worker -> PostgreSQL."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from temporalio.client import WorkflowExecutionStatus

from db.models import OutboxMessage
from services import outbox
from services.activities import NewActivity, store_activity
from tests.integration.eventually import eventually


def activity(type_: str, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": f"ev-{uuid.uuid4().hex}",
        "type": type_,
        "occurred_at": datetime.now(UTC).isoformat(),
        **fields,
    }


async def stage_of(admin, lead_id: int) -> int:
    lead: dict[str, Any] = await admin.ok("get", f"/leads/{lead_id}")
    return int(lead["stage_id"])


async def wait_for_stage(admin, lead_id: int, stage_id: int) -> int:
    return await eventually(lambda: stage_of(admin, lead_id), lambda s: s == stage_id)


async def current_details(env: Any, lead_id: int) -> str:
    """What the Temporal UI shows as the lead workflow's current details."""
    metadata = await env.client.get_workflow_handle(f"lead-{lead_id}").query(
        "__temporal_workflow_metadata"
    )
    return str(metadata.current_details)


async def wait_until_applied(env: Any, lead_id: int, event_id: str) -> str:
    """Events apply in order, so once this one shows as the last event, earlier ones are done."""
    return await eventually(lambda: current_details(env, lead_id), lambda d: event_id in d)


class TestIngestion:
    async def test_an_email_moves_a_new_lead_to_attempting_aut_3(
        self, admin, make_lead, lead_stages
    ) -> None:
        lead = await make_lead()
        posted = await admin.ok(
            "post", "/activities", activity("email_sent", lead_id=lead["id"]), status=202
        )
        assert posted["delivered_lead_ids"] == [lead["id"]]
        assert (
            await wait_for_stage(admin, lead["id"], lead_stages["Attempting"])
            == lead_stages["Attempting"]
        )
        history = await admin.ok("get", f"/leads/{lead['id']}/history")
        assert history[-1]["cause"] == "automation:advance_on_outreach"
        assert history[-1]["event_id"] == posted["event_id"]

    async def test_a_connected_call_then_moves_it_to_connected_aut_4(
        self, admin, make_lead, lead_stages
    ) -> None:
        lead = await make_lead()
        await admin.ok(
            "post",
            "/activities",
            activity(
                "call", lead_id=lead["id"], call={"status": "completed", "outcome": "no_answer"}
            ),
        )
        await wait_for_stage(admin, lead["id"], lead_stages["Attempting"])
        await admin.ok(
            "post",
            "/activities",
            activity(
                "call", lead_id=lead["id"], call={"status": "completed", "outcome": "connected"}
            ),
        )
        assert (
            await wait_for_stage(admin, lead["id"], lead_stages["Connected"])
            == lead_stages["Connected"]
        )

    async def test_a_repeated_event_id_returns_the_first_result_and_does_nothing_more(
        self, admin, make_lead, lead_stages, session_factory
    ) -> None:
        lead = await make_lead()
        body = activity("email_sent", lead_id=lead["id"])
        first = await admin.ok("post", "/activities", body, status=202)
        await wait_for_stage(admin, lead["id"], lead_stages["Attempting"])
        again = await admin.ok("post", "/activities", body, status=202)
        assert again == first
        history = await admin.ok("get", f"/leads/{lead['id']}/history")
        assert len(history) == 2 and await stage_of(admin, lead["id"]) == lead_stages["Attempting"]

    async def test_an_activity_naming_only_a_contact_reaches_its_open_leads(
        self, admin, lead_stages
    ) -> None:
        contact = await admin.ok("post", "/contacts", {"first_name": "Two"}, status=201)
        first = await admin.ok("post", "/leads", {"contact_id": contact["id"]})
        second = await admin.ok("post", "/leads", {"contact_id": contact["id"]})
        posted = await admin.ok(
            "post", "/activities", activity("linkedin_message", contact_id=contact["id"])
        )
        assert sorted(posted["delivered_lead_ids"]) == sorted([first["id"], second["id"]])
        for lead in (first, second):
            assert (
                await wait_for_stage(admin, lead["id"], lead_stages["Attempting"])
                == lead_stages["Attempting"]
            )

    async def test_type_specific_details_must_match_the_type(self, admin, make_lead) -> None:
        lead = await make_lead()
        response = await admin.post(
            "/activities", activity("email_sent", lead_id=lead["id"], call={"outcome": "connected"})
        )
        assert response.status_code == 422

    async def test_an_unknown_lead_is_named_in_a_422(self, admin) -> None:
        response = await admin.post("/activities", activity("note", lead_id=987654))
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "lead_id"

    async def test_a_naive_time_is_refused(self, admin, make_lead) -> None:
        lead = await make_lead()
        response = await admin.post(
            "/activities",
            {**activity("note", lead_id=lead["id"]), "occurred_at": "2026-11-23T10:00:00"},
        )
        assert (
            response.status_code == 422 and response.json()["errors"][0]["field"] == "occurred_at"
        )


class TestBatch:
    async def test_a_batch_answers_per_item_in_order_and_keeps_the_good_ones(
        self, admin, make_lead, lead_stages
    ) -> None:
        leads = [await make_lead() for _ in range(3)]
        items = [activity("email_sent", lead_id=lead["id"]) for lead in leads]
        items.insert(1, activity("carrier_pigeon", lead_id=leads[0]["id"]))
        items.insert(3, activity("note", lead_id=987654))
        answer = await admin.ok("post", "/activities:batch", {"activities": items}, status=202)
        statuses = [r["status"] for r in answer["results"]]
        assert statuses == [202, 422, 202, 422, 202]
        assert answer["results"][1]["errors"][0]["field"] == "activities.1.type"
        assert answer["results"][3]["errors"][0]["field"] == "lead_id"
        for lead in leads:
            assert (
                await wait_for_stage(admin, lead["id"], lead_stages["Attempting"])
                == lead_stages["Attempting"]
            )

    async def test_a_batch_holds_at_most_500(self, admin) -> None:
        response = await admin.post("/activities:batch", {"activities": [{}] * 501})
        assert response.status_code == 422


class TestRulesEndToEnd:
    async def test_a_manual_move_back_stops_automation_aut_8(
        self, admin, make_lead, lead_stages, dev_server_env
    ) -> None:
        """Automation to Connected, back to New by hand, then a connected call leaves it in New."""
        lead = await make_lead()
        await admin.ok("post", "/activities", activity("email_sent", lead_id=lead["id"]))
        await admin.ok("post", "/activities", activity("email_reply", lead_id=lead["id"]))
        await wait_for_stage(admin, lead["id"], lead_stages["Connected"])
        back = await admin.ok(
            "post", f"/leads/{lead['id']}/stage", {"stage_id": lead_stages["New"]}
        )
        assert back["auto_progression"] is False
        await admin.ok(
            "post",
            "/activities",
            activity(
                "call", lead_id=lead["id"], call={"status": "completed", "outcome": "connected"}
            ),
        )
        await admin.ok("post", "/activities", activity("email_sent", lead_id=lead["id"]))
        # An open moves no lead but reaches its workflow (a chain may wait for it); a note
        # does not reach it at all.
        probe = await admin.ok("post", "/activities", activity("email_open", lead_id=lead["id"]))
        await wait_until_applied(dev_server_env, lead["id"], probe["event_id"])
        assert await stage_of(admin, lead["id"]) == lead_stages["New"]
        causes = [h["cause"] for h in await admin.ok("get", f"/leads/{lead['id']}/history")]
        assert causes.count("manual") == 1 and causes[-1] == "manual"

    async def test_leads_outside_the_default_pipeline_do_not_move_aut_2(
        self, admin, make_pipeline, dev_server_env
    ) -> None:
        pipeline = await make_pipeline()
        contact = await admin.ok("post", "/contacts", {"first_name": "Other"}, status=201)
        lead = await admin.ok(
            "post", "/leads", {"contact_id": contact["id"], "pipeline_id": pipeline["id"]}
        )
        event = activity("email_sent", lead_id=lead["id"])
        await admin.ok("post", "/activities", event)
        details = await wait_until_applied(dev_server_env, lead["id"], event["event_id"])
        assert "no stage change" in details
        assert await stage_of(admin, lead["id"]) == lead["stage_id"]

    async def test_an_activity_for_a_closed_lead_is_kept_but_starts_no_run(
        self, admin, make_lead, lead_stages, dev_server_env
    ) -> None:
        lead = await make_lead()
        await admin.ok(
            "post", f"/leads/{lead['id']}/stage", {"stage_id": lead_stages["Disqualified"]}
        )
        handle = dev_server_env.client.get_workflow_handle(f"lead-{lead['id']}")
        closed = await eventually(
            handle.describe, lambda d: d.status == WorkflowExecutionStatus.COMPLETED
        )
        posted = await admin.ok(
            "post", "/activities", activity("email_reply", lead_id=lead["id"]), status=202
        )
        assert posted["id"] and posted["delivered_lead_ids"] == []
        after = await handle.describe()
        assert after.run_id == closed.run_id and after.status == WorkflowExecutionStatus.COMPLETED
        assert await stage_of(admin, lead["id"]) == lead_stages["Disqualified"]

    async def test_a_stale_delivery_to_a_closed_lead_is_dropped_not_restarted(
        self, admin, make_lead, lead_stages, dev_server_env, orchestrator
    ) -> None:
        """Signal-with-start refuses to start a fresh run for a completed lead workflow."""
        from domain.activities import LeadEvent

        lead = await make_lead()
        await admin.ok("post", f"/leads/{lead['id']}/stage", {"stage_id": lead_stages["Qualified"]})
        handle = dev_server_env.client.get_workflow_handle(f"lead-{lead['id']}")
        closed = await eventually(
            handle.describe, lambda d: d.status == WorkflowExecutionStatus.COMPLETED
        )
        event = LeadEvent(
            event_id="late",
            activity_id=1,
            type="email_reply",
            occurred_at=datetime.now(UTC),
            kinds=("email_reply",),
        )
        assert await orchestrator.deliver_event(lead["id"], event) is False
        assert (await handle.describe()).run_id == closed.run_id

    async def test_operators_find_leads_by_stage_in_visibility(
        self, admin, make_lead, lead_stages, dev_server_env
    ) -> None:
        lead = await make_lead()
        await admin.ok(
            "post",
            "/activities",
            activity("meeting", lead_id=lead["id"], meeting={"outcome": "scheduled"}),
        )
        await wait_for_stage(admin, lead["id"], lead_stages["Attempting"])

        async def ids() -> list[str]:
            return [
                w.id async for w in dev_server_env.client.list_workflows("LeadStage = 'Attempting'")
            ]

        found = await eventually(ids, lambda xs: f"lead-{lead['id']}" in xs)
        assert f"lead-{lead['id']}" in found


class TestFollowUp:
    async def test_disqualifying_with_a_chosen_reason_creates_one_follow_up_lead_aut_12(
        self, admin, make_user, lead_stages
    ) -> None:
        rep, _ = await make_user()
        lead_type = (await admin.ok("get", "/lead-types"))[0]["key"]
        reasons = await admin.ok("get", "/disqualification-reasons")
        chosen, other = reasons[0]["id"], reasons[1]["id"]
        contact = await admin.ok(
            "post", "/contacts", {"first_name": "Fu", "owner_id": rep["id"]}, status=201
        )
        lead = await admin.ok(
            "post", "/leads", {"contact_id": contact["id"], "owner_id": rep["id"]}
        )
        path = f"/pipelines/{lead['pipeline_id']}/automation"
        original = await admin.ok("get", path)
        rules = {
            **original,
            "follow_up_on_disqualify": {
                "enabled": True,
                "lead_type": lead_type,
                "reason_ids": [chosen],
            },
        }
        rules.pop("create_lead_on_lifecycle", None)
        await admin.ok("put", path, rules)
        try:
            await admin.ok(
                "post",
                f"/leads/{lead['id']}/stage",
                {"stage_id": lead_stages["Disqualified"], "disqualification_reason_id": chosen},
            )

            async def follow_ups() -> list[dict[str, Any]]:
                page = await admin.ok("get", f"/leads?contact_id={contact['id']}")
                return [x for x in page["items"] if x["parent_lead_id"] == lead["id"]]

            created = await eventually(follow_ups, lambda xs: len(xs) > 0)
            assert len(created) == 1
            follow_up = created[0]
            assert follow_up["source"] == "follow_up" and follow_up["lead_type"] == lead_type
            assert (
                follow_up["owner_id"] == rep["id"] and follow_up["stage_id"] == lead_stages["New"]
            )
            history = await admin.ok("get", f"/leads/{follow_up['id']}/history")
            assert history[0]["cause"] == "automation:follow_up_on_disqualify"

            other_lead = await admin.ok(
                "post", "/leads", {"contact_id": contact["id"], "owner_id": rep["id"]}
            )
            await admin.ok(
                "post",
                f"/leads/{other_lead['id']}/stage",
                {"stage_id": lead_stages["Disqualified"], "disqualification_reason_id": other},
            )
            page = await admin.ok("get", f"/leads?contact_id={contact['id']}")
            assert not [x for x in page["items"] if x["parent_lead_id"] == other_lead["id"]]
        finally:
            restore = {k: v for k, v in original.items() if k != "create_lead_on_lifecycle"}
            await admin.ok("put", path, restore)

    async def test_a_follow_up_lead_names_the_disqualification_that_caused_it_aut_13(
        self, admin, make_pipeline, make_lead
    ) -> None:
        """AUT-13: the rule in `cause`, the disqualifying transition in `caused_by`."""
        pipeline = await make_pipeline()
        path = f"/pipelines/{pipeline['id']}/automation"
        rules = await admin.ok("get", path)
        reason = (await admin.ok("get", "/disqualification-reasons"))[0]["id"]
        rules["follow_up_on_disqualify"] = {
            "enabled": True,
            "lead_type": (await admin.ok("get", "/lead-types"))[0]["key"],
            "reason_ids": [reason],
        }
        await admin.ok("put", path, rules)
        lead = await make_lead(pipeline_id=pipeline["id"])
        lost = pipeline["stages"][-1]["id"]
        await admin.ok(
            "post",
            f"/leads/{lead['id']}/stage",
            {"stage_id": lost, "disqualification_reason_id": reason},
        )

        async def follow_ups() -> list[dict[str, Any]]:
            page = await admin.ok("get", f"/leads?contact_id={lead['contact_id']}")
            return [x for x in page["items"] if x["parent_lead_id"] == lead["id"]]

        [follow_up] = await eventually(follow_ups, lambda xs: len(xs) > 0)
        disqualified = (await admin.ok("get", f"/leads/{lead['id']}/history"))[-1]
        [created] = await admin.ok("get", f"/leads/{follow_up['id']}/history")
        assert created["cause"] == "automation:follow_up_on_disqualify"
        assert created["caused_by"] == {
            "kind": "disqualification",
            "lead_id": lead["id"],
            "stage_change_id": created["caused_by"]["stage_change_id"],
            "from_stage_id": lead["stage_id"],
            "to_stage_id": lost,
            "disqualification_reason_id": reason,
            "at": disqualified["at"],
        }
        assert (await admin.ok("get", f"/leads/{lead['id']}/history"))[0]["caused_by"] is None


class TestOutbox:
    async def test_an_activity_committed_but_never_signalled_is_delivered_by_the_relay(
        self, admin, make_lead, lead_stages, session_factory, orchestrator
    ) -> None:
        """A crash between commit and signal: the outbox row survives and the relay delivers it."""
        lead = await make_lead()
        async with session_factory() as session, session.begin():
            # The API's own commit, without its fast-path delivery (as if it crashed there).
            await store_activity(
                session,
                NewActivity(
                    event_id=f"crash-{uuid.uuid4().hex}",
                    type="email_sent",
                    occurred_at=datetime.now(UTC) - timedelta(seconds=1),
                    lead_id=lead["id"],
                ),
            )
        assert await stage_of(admin, lead["id"]) == lead_stages["New"]
        delivered = await outbox.relay(session_factory, orchestrator, older_than_seconds=0)
        assert delivered >= 1
        assert (
            await wait_for_stage(admin, lead["id"], lead_stages["Attempting"])
            == lead_stages["Attempting"]
        )

    async def test_the_fast_path_delivers_and_removes_its_own_outbox_rows(
        self, admin, make_lead, lead_stages, session_factory
    ) -> None:
        lead = await make_lead()
        posted = await admin.ok(
            "post", "/activities", activity("email_sent", lead_id=lead["id"]), status=202
        )
        async with session_factory() as session:
            left = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.payload["event"]["event_id"].astext == posted["event_id"])
            )
        assert left == 0
        assert (
            await wait_for_stage(admin, lead["id"], lead_stages["Attempting"])
            == lead_stages["Attempting"]
        )

    async def test_a_message_delivered_twice_moves_the_lead_once(
        self, admin, make_lead, lead_stages, session_factory, orchestrator
    ) -> None:
        """The fast path and the relay may both deliver a message: the workflow applies it once."""
        lead = await make_lead()
        async with session_factory() as session, session.begin():
            _, messages = await store_activity(
                session,
                NewActivity(
                    event_id=f"twice-{uuid.uuid4().hex}",
                    type="email_sent",
                    occurred_at=datetime.now(UTC),
                    lead_id=lead["id"],
                ),
            )
        for message in messages:
            await outbox.deliver(orchestrator, message)
        assert await outbox.deliver_committed(session_factory, orchestrator, messages) == 1
        assert (
            await wait_for_stage(admin, lead["id"], lead_stages["Attempting"])
            == lead_stages["Attempting"]
        )
        history = await admin.ok("get", f"/leads/{lead['id']}/history")
        assert [h["event_id"] for h in history].count(messages[0].payload["event"]["event_id"]) == 1


class TestReferences:
    async def test_the_first_unknown_reference_is_named(self, admin, make_lead) -> None:
        lead = await make_lead()
        response = await admin.post(
            "/activities", activity("note", user_id=987654, lead_id=987655, deal_id=987656)
        )
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "user_id"
        response = await admin.post(
            "/activities", activity("note", lead_id=lead["id"], deal_id=987656)
        )
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "deal_id"

    async def test_known_references_are_stored_with_the_activity(self, admin, make_lead) -> None:
        lead = await make_lead()
        posted = await admin.ok(
            "post",
            "/activities",
            activity("note", lead_id=lead["id"], contact_id=lead["contact_id"]),
            status=202,
        )
        assert posted["lead_id"] == lead["id"] and posted["contact_id"] == lead["contact_id"]
        assert posted["delivered_lead_ids"] == [lead["id"]]
