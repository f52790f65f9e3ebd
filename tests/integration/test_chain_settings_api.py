"""A stage chain's settings (ACT-7) through HTTP and on real PostgreSQL and Temporal: reading
and changing them, their versions, their rules, and who enrolls when a lead enters the stage."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from db.engine import SessionFactory
from services import chain_settings
from tests.integration.test_chains_end_to_end import move, runs_of, wait_for_runs
from tests.integration.test_pipelines import stage_id
from tests.stack import Api, MakePipeline

TASK = {"type": "create_task", "config": {"title": "Call {{contact.first_name}}"}}
OFFICE_HOURS = {
    "weekdays": [1, 2, 3, 4, 5],
    "start": "09:00",
    "end": "17:00",
    "time_zone": "Europe/Helsinki",
}


def chain_path(pipeline: dict[str, Any], label: str = "Working") -> str:
    return f"/pipelines/{pipeline['id']}/stages/{stage_id(pipeline, label)}/chain"


class TestReadAndChange:
    async def test_a_new_chain_reads_its_id_and_the_defaults(
        self, admin: Api, make_pipeline: MakePipeline
    ) -> None:
        pipeline = await make_pipeline()
        settings = await admin.ok("get", f"{chain_path(pipeline)}/settings")
        assert settings == {
            "pipeline_id": pipeline["id"],
            "stage_id": stage_id(pipeline, "Working"),
            "workflow_id": f"stage-chain-{stage_id(pipeline, 'Working')}",
            "version": 0,
            "name": "Working",
            "enabled": True,
            "re_enrollment": "every_entry",
            "days": None,
            "window": None,
            "on_leave": "stop",
            "created_at": None,
            "created_by_id": None,
        }

    async def test_settings_are_versioned_with_the_actions(
        self, admin: Api, make_pipeline: MakePipeline
    ) -> None:
        pipeline = await make_pipeline()
        path = chain_path(pipeline)
        v1 = await admin.ok("put", path, {"actions": [TASK]})
        changed = await admin.ok(
            "patch",
            f"{path}/settings",
            {"name": "Follow-up", "re_enrollment": "once_per_days", "days": 30},
        )
        assert (changed["version"], changed["name"], changed["days"]) == (2, "Follow-up", 30)
        chain = await admin.ok("get", path)
        assert chain["version"] == 2 and chain["actions"] == v1["actions"]
        # An action edit keeps the settings; its version carries them.
        await admin.ok("post", f"{path}/actions", {"action": TASK}, status=201)
        after = await admin.ok("get", f"{path}/settings")
        assert (after["version"], after["name"], after["re_enrollment"]) == (
            3,
            "Follow-up",
            "once_per_days",
        )
        workflow_ids = {changed["workflow_id"], after["workflow_id"]}
        assert workflow_ids == {f"stage-chain-{stage_id(pipeline, 'Working')}"}

    async def test_a_change_that_changes_nothing_makes_no_version(
        self, admin: Api, make_pipeline: MakePipeline
    ) -> None:
        pipeline = await make_pipeline()
        path = f"{chain_path(pipeline)}/settings"
        first = await admin.ok("patch", path, {"window": OFFICE_HOURS})
        again = await admin.ok(
            "patch", path, {"window": {**OFFICE_HOURS, "weekdays": [5, 4, 3, 2, 1]}}
        )
        assert first["version"] == again["version"] == 1
        assert again["window"]["weekdays"] == [1, 2, 3, 4, 5]

    async def test_null_clears_a_window_and_leaving_once_per_days_drops_days(
        self, admin: Api, make_pipeline: MakePipeline
    ) -> None:
        pipeline = await make_pipeline()
        path = f"{chain_path(pipeline)}/settings"
        await admin.ok(
            "patch",
            path,
            {"window": OFFICE_HOURS, "re_enrollment": "once_per_days", "days": 7},
        )
        cleared = await admin.ok("patch", path, {"window": None, "re_enrollment": "every_entry"})
        assert (cleared["window"], cleared["days"], cleared["re_enrollment"]) == (
            None,
            None,
            "every_entry",
        )


class TestRules:
    @pytest.mark.parametrize(
        ("body", "field", "rule"),
        [
            ({"days": 5}, "days", "days_unused"),
            ({"re_enrollment": "once_per_days"}, "days", "days_required"),
            ({"re_enrollment": "once_per_days", "days": 0}, "days", "greater_than_equal"),
            ({"re_enrollment": "once_per_days", "days": 3651}, "days", "less_than_equal"),
            ({"re_enrollment": "sometimes"}, "re_enrollment", "enum"),
            ({"enabled": "yes"}, "enabled", "bool_type"),
            ({"enabled": None}, "enabled", "not_nullable"),
            ({"on_leave": None}, "on_leave", "not_nullable"),
            ({"name": "   "}, "name", "string_too_short"),
            ({"name": "Two\nlines"}, "name", "single_line"),
            ({"name": "x" * 201}, "name", "string_too_long"),
            ({"window": {**OFFICE_HOURS, "weekdays": []}}, "window.weekdays", "too_short"),
            ({"window": {**OFFICE_HOURS, "weekdays": [8]}}, "window.weekdays.0", "less_than_equal"),
            ({"window": {**OFFICE_HOURS, "weekdays": [1, 1]}}, "window.weekdays", "unique_items"),
            ({"window": {**OFFICE_HOURS, "end": "08:00"}}, "window.end", "start_before_end"),
            (
                {"window": {**OFFICE_HOURS, "time_zone": "Mars/Base"}},
                "window.time_zone",
                "time_zone",
            ),
            ({"window": {**OFFICE_HOURS, "start": "nine"}}, "window.start", "time_parsing"),
            ({"colour": "red"}, "colour", "extra_forbidden"),
        ],
    )
    async def test_a_broken_setting_is_a_422_naming_the_field_and_nothing_is_saved(
        self, admin: Api, make_pipeline: MakePipeline, body, field, rule
    ) -> None:
        pipeline = await make_pipeline()
        path = f"{chain_path(pipeline)}/settings"
        response = await admin.patch(path, body)
        assert response.status_code == 422, response.text
        problem = response.json()
        assert {(e["field"], e["rule"]) for e in problem["errors"]} >= {(field, rule)}
        assert (await admin.ok("get", path))["version"] == 0

    async def test_an_unknown_stage_is_a_404(self, admin: Api, make_pipeline: MakePipeline) -> None:
        pipeline = await make_pipeline()
        response = await admin.patch(
            f"/pipelines/{pipeline['id']}/stages/2147483647/chain/settings", {}
        )
        assert response.status_code == 404


class TestEnrollment:
    async def test_a_disabled_chain_starts_no_run_for_a_new_entry(
        self, admin: Api, make_pipeline: MakePipeline, make_lead
    ) -> None:
        pipeline = await make_pipeline()
        path = chain_path(pipeline)
        await admin.ok("put", path, {"actions": [TASK]})
        await admin.ok("patch", f"{path}/settings", {"enabled": False})
        lead = await make_lead(pipeline_id=pipeline["id"])
        # The move answers once the entry's enrollment is decided.
        await move(admin, lead["id"], stage_id(pipeline, "Working"))
        assert await runs_of(admin, lead["id"]) == []
        await admin.ok("patch", f"{path}/settings", {"enabled": True})
        await move(admin, lead["id"], stage_id(pipeline, "Talking"))
        await move(admin, lead["id"], stage_id(pipeline, "Working"))
        (run,) = await wait_for_runs(admin, lead["id"], ["completed"])
        assert run["version"] == 3

    async def test_first_entry_only_runs_once_across_re_entries(
        self, admin: Api, make_pipeline: MakePipeline, make_lead
    ) -> None:
        pipeline = await make_pipeline()
        path = chain_path(pipeline)
        await admin.ok("put", path, {"actions": [TASK]})
        await admin.ok("patch", f"{path}/settings", {"re_enrollment": "first_entry_only"})
        lead = await make_lead(pipeline_id=pipeline["id"])
        await move(admin, lead["id"], stage_id(pipeline, "Working"))
        await wait_for_runs(admin, lead["id"], ["completed"])
        # A new version of the chain is the same chain: the lead has run it.
        await admin.ok("put", path, {"actions": [TASK, TASK]})
        for _ in range(2):
            await move(admin, lead["id"], stage_id(pipeline, "Talking"))
            await move(admin, lead["id"], stage_id(pipeline, "Working"))
        assert [r["version"] for r in await runs_of(admin, lead["id"])] == [2]


class TestEnrollmentRules:
    """The enrollment service on PostgreSQL, with stage entries of its own."""

    async def _chain(self, admin: Api, make_pipeline: MakePipeline, make_lead, settings) -> Any:
        pipeline = await make_pipeline()
        path = chain_path(pipeline)
        await admin.ok("put", path, {"actions": [TASK]})
        await admin.ok("patch", f"{path}/settings", settings)
        # The lead stays in New: only the entries made here enroll in Working's chain.
        lead = await make_lead(pipeline_id=pipeline["id"])
        return lead["id"], stage_id(pipeline, "Working")

    async def test_two_entries_at_once_under_first_entry_only_reserve_one_run(
        self, admin: Api, make_pipeline: MakePipeline, make_lead, session_factory: SessionFactory
    ) -> None:
        lead_id, stage = await self._chain(
            admin, make_pipeline, make_lead, {"re_enrollment": "first_entry_only"}
        )

        async def enroll(entry: int) -> str | None:
            async with session_factory() as session:
                enrolled = await chain_settings.enroll(session, lead_id, stage, entry)
            return enrolled.workflow_id

        results = await asyncio.gather(*(enroll(2_000_000_000 + i) for i in range(4)))
        assert len([r for r in results if r is not None]) == 1

    async def test_an_entry_enrolling_again_gets_the_run_it_reserved(
        self, admin: Api, make_pipeline: MakePipeline, make_lead, session_factory: SessionFactory
    ) -> None:
        lead_id, stage = await self._chain(
            admin, make_pipeline, make_lead, {"re_enrollment": "first_entry_only"}
        )
        async with session_factory() as session:
            first = await chain_settings.enroll(session, lead_id, stage, 2_000_000_100)
            again = await chain_settings.enroll(session, lead_id, stage, 2_000_000_100)
        assert first.workflow_id is not None and again.workflow_id == first.workflow_id

    async def test_once_per_days_waits_that_many_days_between_runs(
        self, admin: Api, make_pipeline: MakePipeline, make_lead, session_factory: SessionFactory
    ) -> None:
        lead_id, stage = await self._chain(
            admin, make_pipeline, make_lead, {"re_enrollment": "once_per_days", "days": 7}
        )
        start = datetime.now(UTC)
        decided = []
        for entry, later in ((1, 0), (2, 6), (3, 7)):
            async with session_factory() as session:
                enrolled = await chain_settings.enroll(
                    session,
                    lead_id,
                    stage,
                    2_000_000_200 + entry,
                    now=start + timedelta(days=later),
                )
            decided.append((enrolled.workflow_id is not None, enrolled.refusal))
        assert decided == [
            (True, None),
            (False, "the lead ran this chain less than 7 days ago"),
            (True, None),
        ]


class TestOnLeave:
    async def test_finish_makes_the_rest_of_the_run_happen_after_the_lead_left(
        self, admin: Api, make_pipeline: MakePipeline, make_lead
    ) -> None:
        pipeline = await make_pipeline()
        path = chain_path(pipeline)
        await admin.ok(
            "put", path, {"actions": [{"type": "delay", "config": {"duration": "PT2S"}}, TASK]}
        )
        await admin.ok("patch", f"{path}/settings", {"on_leave": "finish"})
        lead = await make_lead(pipeline_id=pipeline["id"])
        await move(admin, lead["id"], stage_id(pipeline, "Working"))
        await move(admin, lead["id"], stage_id(pipeline, "Talking"))
        (run,) = await wait_for_runs(admin, lead["id"], ["completed"])
        task_step = run["steps"][-1]
        assert (task_step["type"], task_step["status"]) == ("create_task", "completed")
        assert "skipped" not in task_step["result"], task_step["result"]
