"""Configuration changes reach running lead workflows (AUT-2, STG-4): API -> Temporal -> worker
-> PostgreSQL, with the operators' view read from the dev server's visibility store."""

import functools
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from db.models import OutboxMessage
from services import outbox
from tests.integration.eventually import eventually
from tests.integration.test_activities_api import (
    activity,
    stage_of,
    wait_for_stage,
    wait_until_applied,
)
from tests.integration.test_pipelines import default_lead_pipeline, stage_id


async def snapshot_of(env: WorkflowEnvironment, lead_id: int) -> dict[str, Any] | None:
    """What the lead's running workflow holds of its lead (its `current` query)."""
    current: dict[str, Any] | None = await env.client.get_workflow_handle(f"lead-{lead_id}").query(
        "current"
    )
    return current


async def loaded(env: WorkflowEnvironment, *leads: dict[str, Any]) -> None:
    """Until each lead's workflow runs with its lead loaded."""
    for lead in leads:
        assert await eventually(functools.partial(snapshot_of, env, lead["id"]), bool)


async def visible(env: WorkflowEnvironment, query: str) -> list[str]:
    """Ids of the workflows the Temporal UI lists for `query`."""
    return [w.id async for w in env.client.list_workflows(query)]


@pytest.fixture
async def switched_default(admin) -> AsyncIterator[dict[str, Any]]:
    """The default lead pipeline as it was; made the default again after the test (the tests
    share one database)."""
    old = await default_lead_pipeline(admin)
    try:
        yield old
    finally:
        await admin.ok("patch", f"/pipelines/{old['id']}", {"is_default": True})


class TestDefaultPipelineSwitch:
    async def test_after_a_switch_outreach_moves_leads_of_the_new_default_only_aut_2(
        self, admin, make_lead, make_pipeline, lead_stages, dev_server_env, switched_default
    ) -> None:
        new = await make_pipeline()
        old_lead = await make_lead()
        new_lead = await make_lead(pipeline_id=new["id"])
        await loaded(dev_server_env, old_lead, new_lead)  # their snapshots predate the switch

        await admin.ok("patch", f"/pipelines/{new['id']}", {"is_default": True})
        posted = {}
        for lead in (old_lead, new_lead):
            body = activity("email_sent", lead_id=lead["id"])
            posted[lead["id"]] = (await admin.ok("post", "/activities", body))["event_id"]

        working = stage_id(new, "Working")
        assert await wait_for_stage(admin, new_lead["id"], working) == working
        await wait_until_applied(dev_server_env, old_lead["id"], posted[old_lead["id"]])
        assert await stage_of(admin, old_lead["id"]) == lead_stages["New"]

    async def test_an_idle_lead_learns_its_pipeline_became_the_default_aut_2(
        self, admin, make_lead, make_pipeline, dev_server_env, switched_default
    ) -> None:
        """No event needed: the switch itself reaches the workflows of both pipelines."""
        new = await make_pipeline()
        old_lead = await make_lead()
        new_lead = await make_lead(pipeline_id=new["id"])
        await loaded(dev_server_env, old_lead, new_lead)

        await admin.ok("patch", f"/pipelines/{new['id']}", {"is_default": True})

        def flag(snapshot: dict[str, Any] | None) -> bool | None:
            return None if snapshot is None else bool(snapshot["is_default_pipeline"])

        async def flags() -> tuple[bool | None, bool | None]:
            return (
                flag(await snapshot_of(dev_server_env, old_lead["id"])),
                flag(await snapshot_of(dev_server_env, new_lead["id"])),
            )

        assert await eventually(flags, lambda f: f == (False, True)) == (False, True)


class TestRenames:
    async def test_a_renamed_stage_shows_in_the_leads_search_attribute_aut_2_stg_4(
        self, admin, make_lead, make_pipeline, dev_server_env
    ) -> None:
        pipeline = await make_pipeline()
        lead = await make_lead(pipeline_id=pipeline["id"])
        workflow = f"WorkflowId = 'lead-{lead['id']}'"
        await eventually(lambda: visible(dev_server_env, f"{workflow} AND LeadStage = 'New'"), bool)
        label = f"Fresh {uuid.uuid4().hex[:6]}"

        await admin.ok(
            "patch",
            f"/pipelines/{pipeline['id']}/stages/{stage_id(pipeline, 'New')}",
            {"label": label},
        )

        found = await eventually(
            lambda: visible(dev_server_env, f"{workflow} AND LeadStage = '{label}'"), bool
        )
        assert found == [f"lead-{lead['id']}"]
        current = await snapshot_of(dev_server_env, lead["id"])
        assert current is not None and current["stage_label"] == label

    async def test_a_stage_renamed_in_a_whole_list_save_shows_in_the_search_attribute_stg_8(
        self, admin, make_lead, make_pipeline, dev_server_env
    ) -> None:
        pipeline = await make_pipeline()
        lead = await make_lead(pipeline_id=pipeline["id"])
        workflow = f"WorkflowId = 'lead-{lead['id']}'"
        await eventually(lambda: visible(dev_server_env, f"{workflow} AND LeadStage = 'New'"), bool)
        label = f"Fresh {uuid.uuid4().hex[:6]}"
        stages = [
            {
                "id": s["id"],
                "label": label if s["label"] == "New" else s["label"],
                "kind": s["kind"],
            }
            for s in pipeline["stages"]
        ]

        await admin.ok("put", f"/pipelines/{pipeline['id']}/stages", {"stages": stages})

        found = await eventually(
            lambda: visible(dev_server_env, f"{workflow} AND LeadStage = '{label}'"), bool
        )
        assert found == [f"lead-{lead['id']}"]

    async def test_a_renamed_pipeline_shows_in_the_leads_search_attribute_aut_2(
        self, admin, make_lead, make_pipeline, dev_server_env
    ) -> None:
        pipeline = await make_pipeline()
        lead = await make_lead(pipeline_id=pipeline["id"])
        workflow = f"WorkflowId = 'lead-{lead['id']}'"
        await eventually(
            lambda: visible(dev_server_env, f"{workflow} AND LeadPipeline = '{pipeline['label']}'"),
            bool,
        )
        label = f"Renamed {uuid.uuid4().hex[:6]}"

        await admin.ok("patch", f"/pipelines/{pipeline['id']}", {"label": label})

        found = await eventually(
            lambda: visible(dev_server_env, f"{workflow} AND LeadPipeline = '{label}'"), bool
        )
        assert found == [f"lead-{lead['id']}"]


class TestRefreshMessages:
    async def test_one_refresh_per_open_lead_in_the_changed_stage_written_with_the_change_aut_2(
        self, admin, make_lead, make_pipeline, session_factory
    ) -> None:
        """Written in the change's transaction (a crash after it loses none); leads in other
        stages, and closed ones (their workflows have completed), get none."""
        pipeline = await make_pipeline()
        new, working = stage_id(pipeline, "New"), stage_id(pipeline, "Working")
        in_new = [await make_lead(pipeline_id=pipeline["id"]) for _ in range(2)]
        await make_lead(pipeline_id=pipeline["id"], stage_id=working)
        closed = await make_lead(pipeline_id=pipeline["id"])
        await admin.ok(
            "post", f"/leads/{closed['id']}/stage", {"stage_id": stage_id(pipeline, "Won")}
        )

        async with session_factory() as session, session.begin():
            count = await outbox.enqueue_refresh(session, stage_ids=[new])
            rows = (
                await session.scalars(
                    select(OutboxMessage).where(OutboxMessage.kind == outbox.REFRESH_LEAD)
                )
            ).all()
            mine = sorted(
                (m.workflow_id, m.payload["lead_id"])
                for m in rows
                if m.payload["lead_id"] in {lead["id"] for lead in in_new}
            )
            await session.rollback()
        assert count == 2
        assert mine == sorted((f"lead-{lead['id']}", lead["id"]) for lead in in_new)
