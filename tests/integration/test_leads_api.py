"""Leads end to end: HTTP -> API -> Temporal -> worker -> PostgreSQL."""

import uuid
from typing import Any

from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from tests.integration.eventually import eventually
from workflows import search_attributes as sa


async def describe(env: WorkflowEnvironment, lead_id: int) -> Any:
    return await env.client.get_workflow_handle(f"lead-{lead_id}").describe()


class TestCreateLead:
    async def test_creating_a_lead_starts_its_workflow_in_the_first_stage(
        self, admin, make_lead, dev_server_env, lead_stages
    ) -> None:
        lead = await make_lead(label="hot")
        assert lead["stage_id"] == lead_stages["New"]
        assert lead["source"] == "manual" and lead["auto_progression"] is True
        info = await eventually(
            lambda: describe(dev_server_env, lead["id"]),
            lambda d: d.typed_search_attributes.get(sa.LEAD_STAGE) == "New",
        )
        assert info.status == WorkflowExecutionStatus.RUNNING
        assert info.typed_search_attributes.get(sa.LEAD_STAGE) == "New"
        assert info.typed_search_attributes.get(sa.LEAD_PIPELINE) == "Sales leads"

    async def test_a_retry_with_the_same_idempotency_key_makes_no_second_lead(self, admin) -> None:
        contact = await admin.ok("post", "/contacts", {"first_name": "Ida"}, status=201)
        key = {"Idempotency-Key": str(uuid.uuid4())}
        first = await admin.post("/leads", {"contact_id": contact["id"]}, headers=key)
        again = await admin.post("/leads", {"contact_id": contact["id"]}, headers=key)
        assert first.status_code == 201 and again.status_code == 200
        assert again.json()["id"] == first.json()["id"]
        listed = await admin.ok("get", f"/leads?contact_id={contact['id']}")
        assert [x["id"] for x in listed["items"]] == [first.json()["id"]]

    async def test_lead_name_defaults_to_the_contact_and_company(self, admin) -> None:
        company = await admin.ok("post", "/companies", {"name": "Acme"}, status=201)
        contact = await admin.ok(
            "post",
            "/contacts",
            {"first_name": "Mia", "last_name": "Korhonen", "company_id": company["id"]},
        )
        lead = await admin.ok(
            "post", "/leads", {"contact_id": contact["id"], "company_id": company["id"]}
        )
        assert lead["name"] == "Mia Korhonen (Acme)"

    async def test_a_lead_needs_a_contact_or_a_company(self, admin) -> None:
        response = await admin.post("/leads", {"name": "Nobody"})
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "contact_id or a company_id" in response.json()["detail"]

    async def test_unknown_references_name_the_field(self, admin) -> None:
        response = await admin.post("/leads", {"contact_id": 999999})
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {"field": "contact_id", "rule": "exists", "message": "contact 999999 does not exist"}
        ]

    async def test_creating_a_lead_in_a_closed_stage_is_refused(self, admin, lead_stages) -> None:
        contact = await admin.ok("post", "/contacts", {"first_name": "Q"}, status=201)
        response = await admin.post(
            "/leads", {"contact_id": contact["id"], "stage_id": lead_stages["Qualified"]}
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["rule"] == "open_stage"

    async def test_bad_types_and_unknown_fields_are_listed_with_their_rule(self, admin) -> None:
        response = await admin.post(
            "/leads", {"contact_id": "abc", "label": "lukewarm", "colour": "red"}
        )
        assert response.status_code == 422
        fields = {(e["field"], e["rule"]) for e in response.json()["errors"]}
        assert ("contact_id", "int_type") in fields
        assert ("label", "enum") in fields
        assert ("colour", "extra_forbidden") in fields


class TestMoveStage:
    async def test_move_returns_the_lead_after_the_move_and_updates_the_ui(
        self, admin, make_lead, dev_server_env, lead_stages
    ) -> None:
        lead = await make_lead()
        moved = await admin.ok(
            "post", f"/leads/{lead['id']}/stage", {"stage_id": lead_stages["Attempting"]}
        )
        assert moved["stage_id"] == lead_stages["Attempting"]
        info = await describe(dev_server_env, lead["id"])
        assert info.typed_search_attributes.get(sa.LEAD_STAGE) == "Attempting"
        history = await admin.ok("get", f"/leads/{lead['id']}/history")
        assert [(h["cause"], h["to_stage_id"]) for h in history] == [
            ("created", lead_stages["New"]),
            ("manual", lead_stages["Attempting"]),
        ]
        me = await admin.ok("get", "/users/me")
        assert (
            history[1]["actor_id"] == me["id"] and history[1]["from_stage_id"] == lead_stages["New"]
        )

    async def test_a_move_back_turns_automatic_progression_off(
        self, admin, make_lead, lead_stages
    ) -> None:
        lead = await make_lead()
        await admin.ok("post", f"/leads/{lead['id']}/stage", {"stage_id": lead_stages["Connected"]})
        forward = await admin.ok("get", f"/leads/{lead['id']}")
        assert forward["auto_progression"] is True
        back = await admin.ok(
            "post", f"/leads/{lead['id']}/stage", {"stage_id": lead_stages["New"]}
        )
        assert back["auto_progression"] is False

    async def test_a_stage_of_another_pipeline_is_refused_and_nothing_changes(
        self, admin, make_lead, session_factory
    ) -> None:
        lead = await make_lead()
        deal_stage = await _deal_stage_id(session_factory)
        response = await admin.post(f"/leads/{lead['id']}/stage", {"stage_id": deal_stage})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "stage_id"
        assert (await admin.ok("get", f"/leads/{lead['id']}"))["stage_id"] == lead["stage_id"]
        assert len(await admin.ok("get", f"/leads/{lead['id']}/history")) == 1

    async def test_moving_to_the_current_stage_is_a_conflict(self, admin, make_lead) -> None:
        lead = await make_lead()
        response = await admin.post(f"/leads/{lead['id']}/stage", {"stage_id": lead["stage_id"]})
        assert response.status_code == 409

    async def test_qualifying_with_a_deal_links_it_and_completes_the_workflow(
        self, admin, make_lead, dev_server_env, lead_stages
    ) -> None:
        lead = await make_lead()
        moved = await admin.ok(
            "post",
            f"/leads/{lead['id']}/stage",
            {
                "stage_id": lead_stages["Qualified"],
                "deal": {"name": "Annual plan", "amount": "1200.50"},
            },
        )
        deal = await admin.ok("get", f"/deals/{moved['deal_id']}")
        assert deal["lead_id"] == lead["id"] and deal["contact_id"] == lead["contact_id"]
        assert deal["amount"] == "1200.50"
        info = await eventually(
            lambda: describe(dev_server_env, lead["id"]),
            lambda d: d.status == WorkflowExecutionStatus.COMPLETED,
        )
        assert info.status == WorkflowExecutionStatus.COMPLETED

    async def test_reopening_a_closed_lead_starts_its_workflow_again(
        self, admin, make_lead, dev_server_env, lead_stages
    ) -> None:
        lead = await make_lead()
        await admin.ok(
            "post", f"/leads/{lead['id']}/stage", {"stage_id": lead_stages["Disqualified"]}
        )
        closed = await eventually(
            lambda: describe(dev_server_env, lead["id"]),
            lambda d: d.status == WorkflowExecutionStatus.COMPLETED,
        )
        reopened = await admin.ok(
            "post", f"/leads/{lead['id']}/stage", {"stage_id": lead_stages["Connected"]}
        )
        assert reopened["stage_id"] == lead_stages["Connected"]
        info = await describe(dev_server_env, lead["id"])
        assert info.run_id != closed.run_id and info.status == WorkflowExecutionStatus.RUNNING
        assert info.typed_search_attributes.get(sa.LEAD_STAGE) == "Connected"

    async def test_a_deal_with_a_move_to_an_open_stage_is_refused(
        self, admin, make_lead, lead_stages
    ) -> None:
        lead = await make_lead()
        response = await admin.post(
            f"/leads/{lead['id']}/stage",
            {"stage_id": lead_stages["Attempting"], "deal": {"name": "X"}},
        )
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "deal"

    async def test_unknown_lead_is_404(self, admin, lead_stages) -> None:
        response = await admin.post("/leads/987654/stage", {"stage_id": lead_stages["New"]})
        assert response.status_code == 404


class TestOwnerAndListing:
    async def test_reassigning_updates_the_lead_and_its_owner_search_attribute(
        self, admin, make_lead, make_user, dev_server_env
    ) -> None:
        rep, _ = await make_user()
        lead = await make_lead()
        updated = await admin.ok("post", f"/leads/{lead['id']}/owner", {"owner_id": rep["id"]})
        assert updated["owner_id"] == rep["id"]
        info = await eventually(
            lambda: describe(dev_server_env, lead["id"]),
            lambda d: d.typed_search_attributes.get(sa.LEAD_OWNER) == rep["id"],
        )
        assert info.typed_search_attributes.get(sa.LEAD_OWNER) == rep["id"]

    async def test_list_filters_and_pages(self, admin, make_lead, make_user) -> None:
        rep, _ = await make_user()
        created = [await make_lead(owner_id=rep["id"], label="cold") for _ in range(3)]
        first = await admin.ok("get", f"/leads?owner_id={rep['id']}&limit=2")
        second = await admin.ok(
            "get", f"/leads?owner_id={rep['id']}&limit=2&cursor={first['next_cursor']}"
        )
        assert [x["id"] for x in first["items"] + second["items"]] == [x["id"] for x in created]
        assert second["next_cursor"] is None

    async def test_paging_input_is_validated(self, admin) -> None:
        assert (await admin.get("/leads", limit=501)).status_code == 422
        bad_cursor = await admin.get("/leads", cursor="not-a-cursor")
        assert bad_cursor.status_code == 422 and bad_cursor.json()["errors"][0]["field"] == "cursor"


async def _deal_stage_id(session_factory: Any) -> int:
    from sqlalchemy import select

    from db.models import Pipeline, Stage

    async with session_factory() as session:
        stage_id: int = await session.scalar(
            select(Stage.id)
            .join(Pipeline, Pipeline.id == Stage.pipeline_id)
            .where(Pipeline.object == "deal")
        )
        return stage_id


class TestEditLead:
    """PATCH /leads/{id} (SET-6 "or later")."""

    async def test_only_the_fields_sent_change_and_the_workflow_shows_the_new_type_set_6(
        self, admin, make_lead, dev_server_env
    ) -> None:
        lead = await make_lead(label="hot", owner_id=None)
        await eventually(
            lambda: describe(dev_server_env, lead["id"]),
            lambda d: d.typed_search_attributes.get(sa.LEAD_STAGE) is not None,
        )
        lead_type = (await admin.ok("get", "/lead-types"))[0]["key"]
        edited = await admin.ok(
            "patch",
            f"/leads/{lead['id']}",
            {"name": "Renamed lead", "label": None, "lead_type": lead_type},
        )
        assert (edited["name"], edited["label"], edited["lead_type"]) == (
            "Renamed lead",
            None,
            lead_type,
        )
        unchanged = ("contact_id", "company_id", "stage_id", "pipeline_id", "source")
        assert {k: edited[k] for k in unchanged} == {k: lead[k] for k in unchanged}
        assert await admin.ok("get", f"/leads/{lead['id']}") == edited
        info = await eventually(
            lambda: describe(dev_server_env, lead["id"]),
            lambda d: d.typed_search_attributes.get(sa.LEAD_TYPE) == lead_type,
        )
        assert info.typed_search_attributes.get(sa.LEAD_TYPE) == lead_type

    async def test_a_contact_or_company_associated_later_takes_the_lifecycle_stage_set_6(
        self, admin, make_lead, lead_settings
    ) -> None:
        """SET-6: "whether at lead creation or later"; an association kept is not set again."""
        first = await admin.ok("post", "/contacts", {"first_name": "Ann"}, status=201)
        lead = await make_lead(contact_id=first["id"])
        await lead_settings(set_lifecycle_on_associate={"enabled": True, "stage": "opportunity"})
        company = await admin.ok(
            "post", "/companies", {"name": "Later Oy", "lifecycle_stage": "customer"}, status=201
        )
        second = await admin.ok(
            "post", "/contacts", {"first_name": "Bo", "lifecycle_stage": "lead"}, status=201
        )
        await admin.ok("patch", f"/leads/{lead['id']}", {"company_id": company["id"]})
        company_now = await admin.ok("get", f"/companies/{company['id']}")
        assert company_now["lifecycle_stage"] == "opportunity"
        assert (await admin.ok("get", f"/contacts/{first['id']}"))["lifecycle_stage"] is None
        await admin.ok("patch", f"/leads/{lead['id']}", {"contact_id": second["id"]})
        changes = await admin.ok("get", f"/contacts/{second['id']}/lifecycle-changes")
        assert [(c["from_stage"], c["to_stage"], c["source"]) for c in changes][-1] == (
            "lead",
            "opportunity",
            "lead_association",
        )
        await admin.ok("patch", f"/contacts/{second['id']}", {"lifecycle_stage": "customer"})
        await admin.ok(
            "patch", f"/leads/{lead['id']}", {"contact_id": second["id"], "name": "Same contact"}
        )
        assert (await admin.ok("get", f"/contacts/{second['id']}"))["lifecycle_stage"] == (
            "customer"
        )

    async def test_bad_edits_are_422_naming_the_field_and_change_nothing_set_6(
        self, admin, make_lead
    ) -> None:
        lead = await make_lead()
        path = f"/leads/{lead['id']}"
        for body, field, rule in (
            ({"name": None}, "name", "not_nullable"),
            ({"name": ""}, "name", "string_too_short"),
            ({"label": "lukewarm"}, "label", "enum"),
            ({"contact_id": 987654}, "contact_id", "exists"),
            ({"company_id": 987654}, "company_id", "exists"),
            ({"lead_type": "no_such_type"}, "lead_type", "exists"),
            ({"contact_id": None}, "contact_id", "contact_or_company"),
            ({"stage_id": 1}, "stage_id", "extra_forbidden"),
        ):
            response = await admin.patch(path, {"name": "Half-saved", **body})
            assert response.status_code == 422, body
            assert (
                response.json()["errors"][0]["field"],
                response.json()["errors"][0]["rule"],
            ) == (
                field,
                rule,
            )
        assert await admin.ok("get", path) == lead
        assert (await admin.patch("/leads/987654", {"name": "x"})).status_code == 404
