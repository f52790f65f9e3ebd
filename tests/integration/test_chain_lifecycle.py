"""A chain's `set_property contact.lifecycle_stage` goes through the create-lead-on-lifecycle
rule like any other lifecycle change (SET-3, SET-4, SET-5): API -> Temporal -> PostgreSQL."""

import uuid
from typing import Any

from temporalio.client import WorkflowExecutionStatus

from tests.integration.eventually import eventually
from tests.integration.test_chains_end_to_end import move, wait_for_runs
from tests.integration.test_lead_settings import TRIGGER, contact_leads
from tests.integration.test_pipelines import stage_id
from tests.stack import Api, MakePipeline

TO_MQL = {
    "type": "set_property",
    "config": {"property": "contact.lifecycle_stage", "value": "marketingqualifiedlead"},
}


async def chain_on(admin: Api, pipeline: dict[str, Any], label: str) -> None:
    path = f"/pipelines/{pipeline['id']}/stages/{stage_id(pipeline, label)}/chain"
    await admin.ok("put", path, {"actions": [TO_MQL]})


async def new_contact(admin: Api, **fields: Any) -> dict[str, Any]:
    body = {"first_name": "Sam", "last_name": f"Cycle {uuid.uuid4().hex[:6]}", **fields}
    contact: dict[str, Any] = await admin.ok("post", "/contacts", body, status=201)
    return contact


async def sources(admin: Api, contact_id: int) -> list[tuple[str | None, str]]:
    changes = await admin.ok("get", f"/contacts/{contact_id}/lifecycle-changes")
    return [(c["to_stage"], c["source"]) for c in changes]


class TestChainLifecycleChange:
    async def test_a_chain_setting_a_trigger_stage_creates_the_lead_set_3(
        self,
        admin: Api,
        make_user,
        make_pipeline: MakePipeline,
        make_lead,
        lead_settings,
        lead_stages: dict[str, int],
        dev_server_env,
    ) -> None:
        """A chain on the disqualified stage recycles the contact: once its lead is closed,
        the trigger stage makes one new lead in the default pipeline, its workflow started."""
        await lead_settings(create_lead_on_lifecycle=TRIGGER)
        rep, _ = await make_user()
        pipeline = await make_pipeline()
        await chain_on(admin, pipeline, "Lost")
        contact = await new_contact(admin, owner_id=rep["id"])
        old = await make_lead(pipeline_id=pipeline["id"], contact_id=contact["id"])

        await move(admin, old["id"], stage_id(pipeline, "Lost"))

        (run,) = await wait_for_runs(admin, old["id"], ["completed"])
        leads = await contact_leads(admin, contact["id"])
        [lead] = [x for x in leads if x["id"] != old["id"]]
        assert run["steps"][0]["result"]["created_lead_id"] == lead["id"]
        assert (lead["source"], lead["owner_id"], lead["stage_id"]) == (
            "lifecycle_stage",
            rep["id"],
            lead_stages["New"],
        )
        history = await admin.ok("get", f"/leads/{lead['id']}/history")
        assert history[0]["cause"] == "automation:create_lead_on_lifecycle"
        assert await sources(admin, contact["id"]) == [("marketingqualifiedlead", "chain")]
        info = await eventually(
            lambda: dev_server_env.client.get_workflow_handle(f"lead-{lead['id']}").describe(),
            lambda d: d.status == WorkflowExecutionStatus.RUNNING,
        )
        assert info.status == WorkflowExecutionStatus.RUNNING

    async def test_no_lead_while_the_contact_has_an_open_one_set_3(
        self, admin: Api, make_pipeline: MakePipeline, make_lead, lead_settings
    ) -> None:
        await lead_settings(create_lead_on_lifecycle=TRIGGER)
        pipeline = await make_pipeline()
        await chain_on(admin, pipeline, "Working")
        contact = await new_contact(admin)
        lead = await make_lead(pipeline_id=pipeline["id"], contact_id=contact["id"])

        await move(admin, lead["id"], stage_id(pipeline, "Working"))

        (run,) = await wait_for_runs(admin, lead["id"], ["completed"])
        assert "created_lead_id" not in run["steps"][0]["result"]
        assert [x["id"] for x in await contact_leads(admin, contact["id"])] == [lead["id"]]
        assert await sources(admin, contact["id"]) == [("marketingqualifiedlead", "chain")]

    async def test_no_lead_while_the_rule_is_off_set_5(
        self, admin: Api, make_pipeline: MakePipeline, make_lead
    ) -> None:
        pipeline = await make_pipeline()
        await chain_on(admin, pipeline, "Lost")
        contact = await new_contact(admin)
        lead = await make_lead(pipeline_id=pipeline["id"], contact_id=contact["id"])

        await move(admin, lead["id"], stage_id(pipeline, "Lost"))

        await wait_for_runs(admin, lead["id"], ["completed"])
        assert [x["id"] for x in await contact_leads(admin, contact["id"])] == [lead["id"]]
