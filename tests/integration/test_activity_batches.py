"""Batches stored set-based (services/activity_batches.py): each item answers as if it had
been posted alone, and each lead hears of its events in order. HTTP -> API -> PostgreSQL ->
Temporal -> worker."""

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Activity, Call, Contact, Deal, Lead, OutboxMessage, Pipeline, Stage
from domain.guided import ObjectKind
from domain.guided_evaluation import guided_workflow_id
from services import outbox
from services.activities import NewActivity, store_activity
from services.activity_batches import store_batch
from tests.integration.concurrent_writes import while_deleting_contact, while_writing
from tests.integration.eventually import eventually

NOW = datetime.now(UTC).isoformat()


def activity(type_: str, **fields: Any) -> dict[str, Any]:
    return {"event_id": f"ev-{uuid.uuid4().hex}", "type": type_, "occurred_at": NOW, **fields}


def script(lead: dict[str, Any], notes: int = 2) -> list[dict[str, Any]]:
    """A lead's way to Connected, every item at one instant: only their order tells the
    reply (Attempting -> Connected) from the email (New -> Attempting)."""
    types = ["email_sent"] + ["note"] * notes + ["email_reply"]
    return [activity(t, lead_id=lead["id"]) for t in types]


def interleaved(*scripts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for step in zip(*scripts, strict=True) for item in step]


async def post_batch(admin, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answer = await admin.ok("post", "/activities:batch", {"activities": items}, status=202)
    results: list[dict[str, Any]] = answer["results"]
    return results


async def reaches_connected_by_its_script(
    admin, lead: dict[str, Any], lead_stages: dict[str, int], items: list[dict[str, Any]]
) -> None:
    """The lead moves New -> Attempting -> Connected, each move caused by its event."""

    async def stage() -> int:
        return int((await admin.ok("get", f"/leads/{lead['id']}"))["stage_id"])

    assert (
        await eventually(stage, lambda s: s == lead_stages["Connected"])
        == (lead_stages["Connected"])
    )
    history = await admin.ok("get", f"/leads/{lead['id']}/history")
    sent, reply = (i["event_id"] for i in items if i["type"] != "note")
    assert [(h["to_stage_id"], h["event_id"]) for h in history[1:]] == [
        (lead_stages["Attempting"], sent),
        (lead_stages["Connected"], reply),
    ]


async def stored_event_ids(session_factory, items: list[dict[str, Any]]) -> Counter[str]:
    async with session_factory() as session:
        found = await session.scalars(
            select(Activity.event_id).where(Activity.event_id.in_([i["event_id"] for i in items]))
        )
        return Counter(found.all())


class TestIdempotency:
    async def test_new_stored_reused_and_repeated_items_answer_as_if_posted_alone(
        self, admin, make_lead, session_factory
    ) -> None:
        lead = await make_lead()
        stored = activity("note", lead_id=lead["id"], note={"body": "stored"})
        reused = activity("note", lead_id=lead["id"], note={"body": "kept"})
        first_stored = await admin.ok("post", "/activities", stored, status=202)
        await admin.ok("post", "/activities", reused, status=202)
        twice = activity("note", lead_id=lead["id"], note={"body": "twice"})
        items = [
            activity("note", lead_id=lead["id"]),
            stored,
            {**reused, "note": {"body": "changed"}},
            twice,
            twice,
            {**twice, "note": {"body": "other"}},
            activity("note", lead_id=987654),
            activity("note", lead_id=lead["id"], user_id=987653, deal_id=987652),
            activity("note", lead_id=lead["id"], deal_id=987652),
            activity("email_sent", lead_id=lead["id"]),
        ]
        results = await post_batch(admin, items)
        assert [r["status"] for r in results] == [202, 202, 422, 202, 202, 422, 422, 422, 422, 202]
        assert results[1]["activity"] == first_stored
        assert results[3]["activity"] == results[4]["activity"]
        for reused_index in (2, 5):
            assert results[reused_index]["errors"][0]["rule"] == "idempotency_key_reused"
        assert [(r["errors"][0]["field"], r["errors"][0]["message"]) for r in results[6:9]] == [
            ("lead_id", "lead 987654 does not exist"),
            ("user_id", "user 987653 does not exist"),
            ("deal_id", "deal 987652 does not exist"),
        ]
        new_ids = [results[i]["activity"]["id"] for i in (0, 3, 9)]
        assert sorted(new_ids) == new_ids and new_ids[0] > first_stored["id"]
        assert results[9]["activity"]["delivered_lead_ids"] == [lead["id"]]
        counts = await stored_event_ids(session_factory, items)
        refused = {items[i]["event_id"] for i in (6, 7, 8)}
        assert counts == {i["event_id"]: 1 for i in items if i["event_id"] not in refused}
        async with session_factory() as session:
            kept = await session.scalar(
                select(Activity.details).where(Activity.event_id == reused["event_id"])
            )
        assert kept == {"note": {"body": "kept"}}

    async def test_an_event_id_refused_first_is_stored_by_its_next_item(
        self, admin, make_lead
    ) -> None:
        lead = await make_lead()
        refused = activity("note", lead_id=987654)
        good = {**refused, "lead_id": lead["id"]}
        results = await post_batch(admin, [refused, good, good])
        assert [r["status"] for r in results] == [422, 202, 202]
        assert results[1]["activity"]["lead_id"] == lead["id"]
        assert results[2]["activity"] == results[1]["activity"]

    async def test_an_event_id_a_concurrent_transaction_stores_answers_its_result(
        self, admin, make_lead, session_factory
    ) -> None:
        lead = await make_lead()
        same, other = activity("note", lead_id=lead["id"]), activity("note", lead_id=lead["id"])
        items = [activity("note", lead_id=lead["id"]), same, other]

        async def store_first(session: AsyncSession) -> None:
            for item, body in ((same, None), (other, "another body")):
                await store_activity(
                    session,
                    NewActivity(
                        event_id=item["event_id"],
                        type="note",
                        occurred_at=datetime.fromisoformat(NOW),
                        lead_id=lead["id"],
                        details={"note": {"body": body}} if body else {},
                    ),
                )

        response = await while_writing(
            session_factory, store_first, admin.post("/activities:batch", {"activities": items})
        )
        assert response.status_code == 202, response.text
        results = response.json()["results"]
        assert [r["status"] for r in results] == [202, 202, 422]
        assert results[2]["errors"][0]["rule"] == "idempotency_key_reused"
        assert results[1]["activity"]["id"] < results[0]["activity"]["id"]
        assert await stored_event_ids(session_factory, items) == {i["event_id"]: 1 for i in items}


class TestOrder:
    async def test_items_of_several_leads_interleaved_reach_each_lead_in_order(
        self, admin, make_lead, lead_stages
    ) -> None:
        leads = [await make_lead() for _ in range(3)]
        scripts = [script(lead) for lead in leads]
        results = await post_batch(admin, interleaved(*scripts))
        assert {r["status"] for r in results} == {202}
        ids = [r["activity"]["id"] for r in results]
        assert ids == sorted(ids)
        for lead, items in zip(leads, scripts, strict=True):
            await reaches_connected_by_its_script(admin, lead, lead_stages, items)

    async def test_meetings_and_calls_among_notes_are_stored_in_order_with_their_records(
        self, admin, make_user, session_factory
    ) -> None:
        owner, _ = await make_user("sales_user", seat="current")
        contact = await admin.ok("post", "/contacts", {"first_name": "Order"}, status=201)
        start = datetime.now(UTC) + timedelta(hours=1)

        def meeting(**fields: Any) -> dict[str, Any]:
            return activity("meeting", user_id=owner["id"], contact_id=contact["id"], **fields)

        calendar = f"gcal-{uuid.uuid4().hex}"
        times = {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}
        await admin.ok("post", "/activities", meeting(meeting={"meeting_id": calendar, **times}))
        call = activity("call", contact_id=contact["id"], call={"status": "completed"})
        # Refused once written: the update moves the meeting's start past its end.
        late_start = {"meeting_id": calendar, "start": (start + timedelta(hours=2)).isoformat()}
        items = [
            activity("note", contact_id=contact["id"]),
            meeting(meeting=times),
            activity("note", contact_id=contact["id"]),
            call,
            call,
            meeting(meeting=late_start),
            activity("note", contact_id=contact["id"]),
        ]
        results = await post_batch(admin, items)
        assert [r["status"] for r in results] == [202, 202, 202, 202, 202, 422, 202]
        stored = [r["activity"] for r in results if r["status"] == 202]
        ids = [a["id"] for a in stored]
        assert ids == sorted(ids) and len(set(ids)) == 5
        assert [(a["meeting_id"] is not None, a["call_id"] is not None) for a in stored] == [
            (False, False),
            (True, False),
            (False, False),
            (False, True),
            (False, True),
            (False, False),
        ]
        assert stored[3] == stored[4]
        async with session_factory() as session:
            made = await session.get(Call, stored[3]["call_id"])
            calls = await session.scalar(
                select(func.count()).select_from(Call).where(Call.contact_id == contact["id"])
            )
        assert made is not None and made.status == "completed" and calls == 1
        assert results[5]["errors"][0]["field"] == "meeting.end"
        assert await stored_event_ids(session_factory, items) == {
            i["event_id"]: 1 for i in items if i is not items[5]
        }


class TestDeletedMeanwhile:
    async def test_a_contact_deleted_before_the_insert_refuses_its_items_and_the_rest_moves(
        self, admin, make_lead, lead_stages, session_factory
    ) -> None:
        """The set-based insert fails on the deleted contact: the run is stored again item by
        item, which reports that contact's items and keeps and delivers the others."""
        leads = [await make_lead() for _ in range(2)]
        gone = await admin.ok("post", "/contacts", {"first_name": "Gone"}, status=201)
        scripts = [script(lead) for lead in leads]
        items = interleaved(*scripts)
        items[1:1] = [activity("note", contact_id=gone["id"])]
        items.append(activity("linkedin_message", contact_id=gone["id"]))
        response = await while_deleting_contact(
            session_factory, gone["id"], admin.post("/activities:batch", {"activities": items})
        )
        assert response.status_code == 202, response.text
        results = response.json()["results"]
        refused = [i for i, r in enumerate(results) if r["status"] != 202]
        assert refused == [1, len(items) - 1]
        for index in refused:
            assert results[index]["status"] == 422
            assert results[index]["errors"][0] == {
                "field": "contact_id",
                "rule": "exists",
                "message": f"contact {gone['id']} does not exist",
            }
        assert await stored_event_ids(session_factory, items) == {
            i["event_id"]: 1 for i in items if i.get("contact_id") != gone["id"]
        }
        for lead, lead_items in zip(leads, scripts, strict=True):
            await reaches_connected_by_its_script(admin, lead, lead_stages, lead_items)


class TestGuidedEvaluations:
    async def test_each_stored_activity_owes_each_of_its_records_evaluation_once(
        self, session_factory, lead_stages
    ) -> None:
        """Counted inside the batch's own transaction, never committed: the relay cannot take
        the messages first, and nobody else knows these records."""
        async with session_factory() as session:
            a, b, c, e = (Contact(first_name=name) for name in "ABCE")
            session.add_all([a, b, c, e])
            await session.flush()
            lead_pipeline = await session.scalar(
                select(Stage.pipeline_id).where(Stage.id == lead_stages["New"])
            )
            deal_stage = await session.scalar(
                select(Stage)
                .join(Pipeline, Pipeline.id == Stage.pipeline_id)
                .where(Pipeline.object == "deal", Pipeline.is_default.is_(True))
                .limit(1)
            )
            assert lead_pipeline is not None and deal_stage is not None
            lead = Lead(
                name="A", contact_id=a.id, pipeline_id=lead_pipeline, stage_id=lead_stages["New"]
            )
            deal = Deal(name="D", pipeline_id=deal_stage.pipeline_id, stage_id=deal_stage.id)
            session.add_all([lead, deal])
            await session.flush()
            at = datetime.now(UTC)

            def new(type_: str, **fields: Any) -> NewActivity:
                return NewActivity(event_id=uuid.uuid4().hex, type=type_, occurred_at=at, **fields)

            repeat = new("note", contact_id=e.id)
            await store_activity(session, repeat)
            before = await session.scalar(select(func.max(OutboxMessage.id))) or 0
            call = {"call": {"status": "completed"}}
            results, _ = await store_batch(
                session,
                [
                    new("note", lead_id=lead.id, contact_id=a.id),
                    new("note", contact_id=a.id),
                    new("call", contact_id=b.id, deal_id=deal.id, details=call),
                    new("call", contact_id=b.id, details=call),
                    new("note", lead_id=987654, contact_id=c.id),
                    repeat,
                    new("note", contact_id=a.id),
                ],
            )
            assert [r.error is None for r in results] == [True] * 4 + [False] + [True] * 2
            calls = [r.recorded.activity.call_id for r in results[2:4] if r.recorded]
            assert len(calls) == 2 and None not in calls
            expected = [
                (ObjectKind.CONTACT, a.id),
                (ObjectKind.LEAD, lead.id),
                (ObjectKind.CONTACT, b.id),
                (ObjectKind.DEAL, deal.id),
                *((ObjectKind.CALL, call_id) for call_id in calls if call_id is not None),
            ]
            # Neither the refused item's contact nor the repeat's is evaluated again.
            untouched = [(ObjectKind.CONTACT, c.id), (ObjectKind.CONTACT, e.id)]
            workflows = [guided_workflow_id(kind, rid) for kind, rid in expected + untouched]
            owed = Counter(
                (
                    await session.scalars(
                        select(OutboxMessage.workflow_id).where(
                            OutboxMessage.id > before,
                            OutboxMessage.kind == outbox.EVALUATE_GUIDED,
                            OutboxMessage.workflow_id.in_(workflows),
                        )
                    )
                ).all()
            )
            await session.rollback()
        assert owed == dict.fromkeys(workflows[: len(expected)], 1)
