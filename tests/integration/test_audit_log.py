"""The configuration audit log: every change, with who, when and the entity before and after."""

import uuid

from tests.stack import DEFAULT_LEAD_SETTINGS


class TestAuditLog:
    async def test_a_settings_change_is_recorded_with_before_and_after(
        self, admin, lead_settings
    ) -> None:
        await lead_settings(require_deal_on_qualify=True)
        me = await admin.ok("get", "/users/me")
        [entry] = (await admin.ok("get", "/audit-log?entity=lead_settings&limit=1"))["items"]
        assert entry["actor_id"] == me["id"] and entry["action"] == "update"
        assert entry["before"]["require_deal_on_qualify"] is False
        assert entry["after"]["require_deal_on_qualify"] is True
        assert entry["at"]

    async def test_pipeline_stage_reason_type_and_automation_changes_are_recorded(
        self, admin, make_pipeline
    ) -> None:
        pipeline = await make_pipeline()
        base = f"/pipelines/{pipeline['id']}"
        stage = await admin.ok("post", f"{base}/stages", {"label": "Extra", "kind": "open"})
        await admin.ok("patch", f"{base}/stages/{stage['id']}", {"label": "Extra 2"})
        await admin.delete(f"{base}/stages/{stage['id']}")
        rules = await admin.ok("get", f"{base}/automation")
        rules["advance_on_connect"]["enabled"] = False
        await admin.ok("put", f"{base}/automation", rules)
        reason = await admin.ok(
            "post", "/disqualification-reasons", {"label": f"R {uuid.uuid4().hex[:6]}"}
        )
        await admin.delete(f"/disqualification-reasons/{reason['id']}")
        lead_type = await admin.ok("post", "/lead-types", {"label": f"T {uuid.uuid4().hex[:6]}"})
        await admin.delete(f"/lead-types/{lead_type['id']}")

        entries = (await admin.ok("get", "/audit-log?limit=9"))["items"]
        assert [(e["entity"], e["entity_id"], e["action"]) for e in reversed(entries)] == [
            ("pipeline", pipeline["id"], "create"),
            ("stage", stage["id"], "create"),
            ("stage", stage["id"], "update"),
            ("stage", stage["id"], "delete"),
            ("pipeline_automation", pipeline["id"], "update"),
            ("disqualification_reason", reason["id"], "create"),
            ("disqualification_reason", reason["id"], "delete"),
            ("lead_type", lead_type["id"], "create"),
            ("lead_type", lead_type["id"], "delete"),
        ]
        stage_update = entries[6]
        assert stage_update["before"]["label"] == "Extra"
        assert stage_update["after"]["label"] == "Extra 2"
        automation = entries[4]
        assert automation["before"]["advance_on_connect"]["enabled"] is True
        assert automation["after"]["advance_on_connect"]["enabled"] is False

    async def test_a_refused_change_records_nothing(self, admin) -> None:
        newest = (await admin.ok("get", "/audit-log?limit=1"))["items"]
        bad = {**DEFAULT_LEAD_SETTINGS, "create_lead_on_lifecycle": {"enabled": True}}
        assert (await admin.put("/settings/leads", bad)).status_code == 422
        assert (await admin.ok("get", "/audit-log?limit=1"))["items"] == newest

    async def test_the_log_pages_newest_first_and_filters_by_entity(self, admin) -> None:
        for _ in range(3):
            created = await admin.ok(
                "post", "/lead-types", {"label": f"Paged {uuid.uuid4().hex[:6]}"}
            )
            await admin.delete(f"/lead-types/{created['id']}")
        first = await admin.ok("get", "/audit-log?entity=lead_type&limit=2")
        second = await admin.ok(
            "get", f"/audit-log?entity=lead_type&limit=2&cursor={first['next_cursor']}"
        )
        ids = [e["id"] for e in first["items"] + second["items"]]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4
        assert {e["entity"] for e in first["items"] + second["items"]} == {"lead_type"}
        assert (await admin.get("/audit-log", entity="nonsense")).status_code == 422
        assert (await admin.get("/audit-log", cursor="garbage")).status_code == 422

    async def test_only_admins_read_the_log(self, make_user) -> None:
        for role in ("sales_user", "service"):
            _, caller = await make_user(role=role)
            assert (await caller.get("/audit-log")).status_code == 403
        _, other_admin = await make_user(role="admin")
        assert (await other_admin.get("/audit-log")).status_code == 200
