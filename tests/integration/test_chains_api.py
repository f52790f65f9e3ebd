"""Stage action chains through HTTP: versions, edits, comments, dry runs, run history (ACT-*)."""

import uuid
from typing import Any

import pytest

from db.engine import SessionFactory
from services import chain_runs, chains
from tests.stack import Api

TASK: dict[str, Any] = {
    "type": "create_task",
    "config": {"title": "Call {{contact.first_name}}", "due_in": "P1D"},
}
DELAY = {"type": "delay", "config": {"duration": "P3D"}}


def email(subject: str = "Hi") -> dict[str, Any]:
    return {
        "type": "send_email",
        "config": {"subject": subject, "body": "Hi {{contact.first_name}}"},
    }


def branch(then: list[Any], else_: list[Any] | None = None, value: str = "hot") -> dict[str, Any]:
    config: dict[str, Any] = {
        "if": {"property": "lead.label", "op": "eq", "value": value},
        "then": then,
    }
    if else_ is not None:
        config["else"] = else_
    return {"type": "branch", "config": config}


@pytest.fixture
async def pipeline(admin: Api) -> dict[str, Any]:
    """A fresh lead pipeline (not the default), so each test has chains of its own (ACT-8)."""
    body = {
        "object": "lead",
        "label": f"Chains {uuid.uuid4().hex[:8]}",
        "stages": [
            {"label": "New", "kind": "open"},
            {"label": "Working", "kind": "open"},
            {"label": "Qualified", "kind": "qualified"},
            {"label": "Disqualified", "kind": "disqualified"},
        ],
    }
    created: dict[str, Any] = await admin.ok("post", "/pipelines", body, status=201)
    return created


def chain_path(pipeline: dict[str, Any], index: int = 0) -> str:
    return f"/pipelines/{pipeline['id']}/stages/{pipeline['stages'][index]['id']}/chain"


def ids_of(actions: list[dict[str, Any]]) -> list[str]:
    return [a["id"] for a in actions]


class TestReadAndReplace:
    async def test_a_stage_without_a_chain_reads_as_version_0_act_1(self, admin, pipeline) -> None:
        chain = await admin.ok("get", chain_path(pipeline))
        assert chain["version"] == 0 and chain["actions"] == []
        assert chain["stage_id"] == pipeline["stages"][0]["id"]

    async def test_every_put_makes_a_new_version_with_server_ids_act_8(
        self, admin, pipeline
    ) -> None:
        path = chain_path(pipeline)
        first = await admin.ok("put", path, {"actions": [TASK, DELAY]})
        assert first["version"] == 1
        assert all(a["id"].startswith("a_") for a in first["actions"])
        assert first["actions"][1]["config"]["duration"] == "P3D"
        # A GET sent back keeps its ids.
        second = await admin.ok("put", path, {"actions": first["actions"] + [email()]})
        assert second["version"] == 2
        assert ids_of(second["actions"])[:2] == ids_of(first["actions"])
        assert (await admin.ok("get", path))["version"] == 2

    async def test_chains_of_different_stages_are_separate(self, admin, pipeline) -> None:
        await admin.ok("put", chain_path(pipeline, 0), {"actions": [TASK]})
        other = await admin.ok("get", chain_path(pipeline, 1))
        assert other["version"] == 0

    async def test_a_run_keeps_the_version_it_started_with(
        self, admin, pipeline, session_factory: SessionFactory
    ) -> None:
        path = chain_path(pipeline)
        v1 = await admin.ok("put", path, {"actions": [TASK]})
        await admin.ok("put", path, {"actions": [DELAY]})
        stage_id = pipeline["stages"][0]["id"]
        async with session_factory() as session:
            pinned = await chains.chain_version(session, stage_id, 1)
            in_force = await chains.chain_in_force(session, stage_id)
        assert [a.id for a in pinned.actions] == ids_of(v1["actions"])
        assert in_force.version == 2 and in_force.actions[0].type == "delay"


class TestValidation:
    @pytest.mark.parametrize(
        ("actions", "field", "rule"),
        [
            ([TASK, {"type": "fax", "config": {}}], "actions.1.type", "unknown_type"),
            (
                [TASK, branch([{"type": "delay", "config": {"duration": "soon"}}])],
                "actions.1.config.then.0.config.duration",
                "time_delta_parsing",
            ),
            (
                [{"type": "branch", "config": {"if": {"property": "lead.mood", "op": "eq"}}}],
                "actions.0.config.if.property",
                "unknown_property",
            ),
            (
                [TASK, TASK, {"type": "send_email", "config": {"subject": "x", "body": "{{a.b}}"}}],
                "actions.2.config.body",
                "unknown_placeholder",
            ),
            (
                [branch([branch([branch([branch([branch([TASK])])])])])],
                "actions.0" + ".config.then.0" * 5,
                "too_deep",
            ),
        ],
    )
    async def test_a_bad_chain_is_a_422_naming_the_action_and_nothing_is_stored_act_3(
        self, admin, pipeline, actions, field, rule
    ) -> None:
        path = chain_path(pipeline)
        response = await admin.put(path, {"actions": actions})
        assert response.status_code == 422, response.text
        assert {"field": field, "rule": rule} in [
            {"field": e["field"], "rule": e["rule"]} for e in response.json()["errors"]
        ]
        assert (await admin.ok("get", path))["version"] == 0


class TestPermissions:
    async def test_only_admins_edit_or_comment_perm_2(self, admin, make_user, pipeline) -> None:
        path = chain_path(pipeline)
        chain = await admin.ok("put", path, {"actions": [TASK]})
        action_id = chain["actions"][0]["id"]
        _, rep = await make_user("sales_user", seat="current")
        _, account_admin = await make_user("admin")
        for call in (
            rep.put(path, {"actions": []}),
            rep.post(f"{path}/actions", {"action": DELAY}),
            rep.patch(f"{path}/actions/{action_id}", {"config": {"title": "x"}}),
            rep.delete(f"{path}/actions/{action_id}"),
            rep.post(f"{path}/actions/{action_id}/comments", {"text": "hi"}),
        ):
            assert (await call).status_code == 403
        assert (await rep.ok("get", path))["version"] == 1
        await account_admin.ok("post", f"{path}/actions", {"action": DELAY}, status=201)

    async def test_readers_who_may_not_edit_do_not_see_webhook_secrets(
        self, admin, make_user, pipeline
    ) -> None:
        path = chain_path(pipeline)
        hook = {"type": "webhook", "config": {"url": "https://hooks.example/x", "secret": "k" * 16}}
        saved = await admin.ok("put", path, {"actions": [hook]})
        assert saved["actions"][0]["config"]["secret"] == "k" * 16
        _, rep = await make_user("sales_user", seat="current")
        shown = await rep.ok("get", path)
        assert shown["actions"][0]["config"]["secret"] == "********"


class TestNotFound:
    async def test_a_stage_of_another_pipeline_or_an_unknown_one_is_404(
        self, admin, pipeline, lead_stages
    ) -> None:
        other_stage = lead_stages["New"]
        assert (
            await admin.get(f"/pipelines/{pipeline['id']}/stages/{other_stage}/chain")
        ).status_code == 404
        assert (await admin.get(f"/pipelines/999999/stages/{other_stage}/chain")).status_code == 404
        response = await admin.put(
            f"/pipelines/{pipeline['id']}/stages/999999/chain", {"actions": []}
        )
        assert response.status_code == 404


async def deleted(admin: Api, path: str, mode: str) -> Any:
    response = await admin.delete(path, mode=mode)
    assert response.status_code == 200, response.text
    return response.json()


class TestActionEdits:
    async def test_insert_at_the_end_at_a_position_and_inside_a_branch_act_3(
        self, admin, pipeline
    ) -> None:
        path = chain_path(pipeline)
        base = await admin.ok("put", path, {"actions": [TASK, branch([TASK])]})
        end = await admin.ok("post", f"{path}/actions", {"action": DELAY}, status=201)
        assert end["version"] == 2 and end["actions"][-1]["id"] == end["action_id"]
        first = await admin.ok(
            "post", f"{path}/actions", {"action": email(), "position": 0}, status=201
        )
        assert first["actions"][0]["id"] == first["action_id"]
        branch_id = base["actions"][1]["id"]
        inside = await admin.ok(
            "post",
            f"{path}/actions",
            {"action": DELAY, "parent_action_id": branch_id, "branch": "else"},
            status=201,
        )
        found = next(a for a in inside["actions"] if a["id"] == branch_id)
        assert ids_of(found["config"]["else"]) == [inside["action_id"]]
        assert inside["version"] == 4

    async def test_an_invalid_insert_stores_nothing_act_3(self, admin, pipeline) -> None:
        path = chain_path(pipeline)
        await admin.ok("put", path, {"actions": [TASK]})
        response = await admin.post(
            f"{path}/actions", {"action": {"type": "delay", "config": {"duration": "P0D"}}}
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "actions.1.config.duration"
        assert (await admin.ok("get", path))["version"] == 1

    async def test_patch_changes_the_config_and_keeps_the_id_act_4(self, admin, pipeline) -> None:
        path = chain_path(pipeline)
        chain = await admin.ok("put", path, {"actions": [TASK]})
        action_id = chain["actions"][0]["id"]
        patched = await admin.ok(
            "patch", f"{path}/actions/{action_id}", {"config": {"priority": "high"}}
        )
        assert patched["actions"][0]["id"] == action_id
        assert patched["actions"][0]["config"]["priority"] == "high"
        assert patched["actions"][0]["config"]["title"] == TASK["config"]["title"]
        bad = await admin.patch(f"{path}/actions/{action_id}", {"config": {"due_in": "x"}})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "actions.0.config.due_in"
        missing = await admin.patch(f"{path}/actions/a_00000000", {"config": {}})
        assert missing.status_code == 404

    async def test_delete_only_inside_a_branch_closes_the_gap_act_6(self, admin, pipeline) -> None:
        path = chain_path(pipeline)
        chain = await admin.ok("put", path, {"actions": [branch([TASK, DELAY, email()]), TASK]})
        then = chain["actions"][0]["config"]["then"]
        after = await deleted(admin, f"{path}/actions/{then[1]['id']}", "only")
        assert ids_of(after["actions"][0]["config"]["then"]) == [then[0]["id"], then[2]["id"]]
        assert len(after["actions"]) == 2

    async def test_delete_following_inside_a_branch_cuts_the_rest_of_that_path_act_6(
        self, admin, pipeline
    ) -> None:
        path = chain_path(pipeline)
        chain = await admin.ok(
            "put", path, {"actions": [branch([TASK, DELAY, email()], else_=[TASK]), TASK]}
        )
        top = chain["actions"]
        then = top[0]["config"]["then"]
        after = await deleted(admin, f"{path}/actions/{then[1]['id']}", "following")
        assert ids_of(after["actions"][0]["config"]["then"]) == [then[0]["id"]]
        assert ids_of(after["actions"][0]["config"]["else"]) == ids_of(top[0]["config"]["else"])
        assert ids_of(after["actions"]) == ids_of(top)

    async def test_delete_following_at_the_top_level_drops_the_tail_act_6(
        self, admin, pipeline
    ) -> None:
        path = chain_path(pipeline)
        chain = await admin.ok("put", path, {"actions": [TASK, DELAY, email()]})
        after = await deleted(admin, f"{path}/actions/{chain['actions'][1]['id']}", "following")
        assert ids_of(after["actions"]) == ids_of(chain["actions"])[:1]
        assert after["version"] == 2


class TestComments:
    async def test_comments_list_author_and_time_and_survive_new_versions_act_5(
        self, admin, pipeline
    ) -> None:
        path = chain_path(pipeline)
        chain = await admin.ok("put", path, {"actions": [TASK, DELAY]})
        action_id = chain["actions"][1]["id"]
        comment = await admin.ok(
            "post", f"{path}/actions/{action_id}/comments", {"text": "Why 3 days?"}, status=201
        )
        assert comment["action_id"] == action_id and comment["text"] == "Why 3 days?"
        assert comment["author_id"] and comment["at"]
        edited = await admin.ok("post", f"{path}/actions", {"action": email()}, status=201)
        kept = next(a for a in edited["actions"] if a["id"] == action_id)
        assert [c["text"] for c in kept["comments"]] == ["Why 3 days?"]
        assert edited["actions"][0]["comments"] == []

    async def test_an_empty_comment_is_refused_act_5(self, admin, pipeline) -> None:
        path = chain_path(pipeline)
        chain = await admin.ok("put", path, {"actions": [TASK]})
        response = await admin.post(
            f"{path}/actions/{chain['actions'][0]['id']}/comments", {"text": "   "}
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "text"

    async def test_a_comment_on_an_unknown_action_is_404(self, admin, pipeline) -> None:
        path = chain_path(pipeline)
        response = await admin.post(f"{path}/actions/a_00000000/comments", {"text": "hi"})
        assert response.status_code == 404


class TestDryRun:
    async def test_dry_run_shows_each_step_with_why_and_changes_nothing(
        self, admin, pipeline, make_lead
    ) -> None:
        owner, _ = await make_user_plain(admin)
        lead = await make_lead(label="hot", owner_id=owner["id"])
        path = chain_path(pipeline)
        await admin.ok("put", path, {"actions": [TASK, branch([DELAY, email()], else_=[TASK])]})
        result = await admin.ok("post", f"{path}:dry-run", {"lead_id": lead["id"]})
        assert result["version"] == 1 and result["lead_id"] == lead["id"]
        steps = result["steps"]
        assert [(s["type"], s["would_run"]) for s in steps] == [
            ("create_task", True),
            ("branch", True),
            ("delay", True),
            ("send_email", True),
            ("create_task", False),
        ]
        assert steps[0]["details"]["title"] == "Call Jo"
        assert steps[0]["details"]["assignee_id"] == owner["id"]
        assert "'hot'" in steps[1]["reason"]
        assert steps[2]["wait"] == "P3D"
        tasks = await admin.ok("get", f"/tasks?lead_id={lead['id']}&user_id={owner['id']}")
        assert tasks["items"] == []

    async def test_dry_run_for_an_unknown_lead_is_404(self, admin, pipeline) -> None:
        response = await admin.post(f"{chain_path(pipeline)}:dry-run", {"lead_id": 999999})
        assert response.status_code == 404


async def make_user_plain(admin: Api) -> tuple[dict[str, Any], None]:
    body = {"email": f"{uuid.uuid4().hex[:10]}@example.com", "name": "Owner", "role": "sales_user"}
    return await admin.ok("post", "/users", body, status=201), None


class TestRunHistory:
    async def test_runs_list_their_version_status_and_steps(
        self, admin, pipeline, make_lead, session_factory: SessionFactory
    ) -> None:
        lead = await make_lead()
        stage_id = pipeline["stages"][0]["id"]
        wf = f"chain-{uuid.uuid4().hex}"
        async with session_factory() as s:
            await chain_runs.start_run(s, wf, lead["id"], pipeline["id"], stage_id, 3)
            await chain_runs.start_run(s, wf, lead["id"], pipeline["id"], stage_id, 3)
            await chain_runs.record_step(s, wf, "a_00000001", 0, "create_task", "running")
            await chain_runs.record_step(
                s, wf, "a_00000001", 0, "create_task", "completed", {"task_id": 1}
            )
            # A retry that reports `running` again after completion changes nothing.
            await chain_runs.record_step(s, wf, "a_00000001", 0, "create_task", "running")
            await chain_runs.record_step(s, wf, "a_00000002", 0, "webhook", "failed", error="502")
            await chain_runs.finish_run(s, wf, "failed")
            await chain_runs.finish_run(s, wf, "completed")
        runs = await admin.ok("get", f"/leads/{lead['id']}/chains")
        assert len(runs["items"]) == 1
        run = runs["items"][0]
        assert (run["workflow_id"], run["version"], run["status"]) == (wf, 3, "failed")
        assert run["ended_at"] is not None
        steps = run["steps"]
        assert [(s["action_id"], s["status"]) for s in steps] == [
            ("a_00000001", "completed"),
            ("a_00000002", "failed"),
        ]
        assert steps[0]["result"] == {"task_id": 1} and steps[0]["ended_at"]
        assert steps[1]["error"] == "502"

    async def test_runs_of_an_unknown_lead_are_404(self, admin) -> None:
        assert (await admin.get("/leads/999999/chains")).status_code == 404
