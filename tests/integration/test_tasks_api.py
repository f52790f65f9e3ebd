"""The caller's tasks through HTTP: buckets in the user's time zone, edits, completion with the
owner's follow-up prompt, sequence tasks, and the tasks chains create (WS-3, WS-7, GA-13,
PERM-3, PERM-8)."""

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from db.engine import SessionFactory
from domain.chains import CreateTaskConfig
from services import chain_effects

ZONE = "Pacific/Kiritimati"  # UTC+14: its "today" differs from UTC's for much of the day


def local_noon(days: int) -> str:
    today = datetime.now(ZoneInfo(ZONE)).date() + timedelta(days=days)
    return datetime(today.year, today.month, today.day, 12, tzinfo=ZoneInfo(ZONE)).isoformat()


class TestBuckets:
    async def test_views_bucket_open_tasks_by_the_users_local_day_ws_3(self, make_user) -> None:
        _, rep = await make_user("sales_user", seat="current", time_zone=ZONE)
        made = {}
        for name, days in (("yesterday", -1), ("today", 0), ("tomorrow", 1), ("later", 5)):
            task = await rep.ok(
                "post", "/tasks", {"title": name, "due_at": local_noon(days)}, status=201
            )
            made[name] = task["id"]
        undated = await rep.ok("post", "/tasks", {"title": "someday"}, status=201)

        async def view(name: str) -> list[int]:
            return [t["id"] for t in (await rep.ok("get", f"/tasks?view={name}"))["items"]]

        assert await view("today") == [made["today"]]
        assert await view("overdue") == [made["yesterday"]]
        assert await view("tomorrow") == [made["tomorrow"]]
        assert await view("upcoming") == [made["tomorrow"], made["later"]]
        assert await view("all") == [*made.values(), undated["id"]]

    async def test_pages_follow_due_order(self, make_user) -> None:
        _, rep = await make_user("sales_user", seat="current")
        ids = [
            (await rep.ok("post", "/tasks", {"title": str(d), "due_at": local_noon(d)}))["id"]
            for d in (3, 1, 2)
        ]
        first = await rep.ok("get", "/tasks?limit=2")
        second = await rep.ok("get", f"/tasks?limit=2&cursor={first['next_cursor']}")
        assert [t["id"] for t in first["items"] + second["items"]] == [ids[1], ids[2], ids[0]]
        assert second["next_cursor"] is None


class TestAccess:
    async def test_only_a_super_admin_sees_another_users_tasks_perm_4(
        self, admin, make_user
    ) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        _, other = await make_user("sales_user", seat="current")
        task = await rep.ok("post", "/tasks", {"title": "mine"}, status=201)
        seen = await admin.ok("get", f"/tasks?user_id={owner['id']}")
        assert [t["id"] for t in seen["items"]] == [task["id"]]
        assert (await other.get(f"/tasks?user_id={owner['id']}")).status_code == 403
        assert (await other.patch(f"/tasks/{task['id']}", {"title": "x"})).status_code == 404
        assert (await other.post(f"/tasks/{task['id']}/complete")).status_code == 404

    async def test_a_legacy_seat_or_none_has_no_task_list_perm_3(self, make_user) -> None:
        _, legacy = await make_user("sales_user", seat="legacy")
        _, seatless = await make_user("admin")
        for api in (legacy, seatless):
            response = await api.get("/tasks")
            assert response.status_code == 403
            assert response.json()["type"] == "/problems/seat-required"

    async def test_a_super_admin_without_a_seat_views_others_tasks_only_perm_4(
        self, make_user
    ) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        _, boss = await make_user("super_admin")
        task = await rep.ok("post", "/tasks", {"title": "mine"}, status=201)
        seen = await boss.ok("get", f"/tasks?user_id={owner['id']}")
        assert [t["id"] for t in seen["items"]] == [task["id"]]
        assert (await boss.get(f"/tasks/{task['id']}")).status_code == 200
        own = await boss.post("/tasks", {"title": "for me"})
        assert own.status_code == 403 and own.json()["type"] == "/problems/seat-required"


class TestEdits:
    async def test_patch_and_complete_prompt_for_a_follow_up_once_ws_7(self, make_user) -> None:
        _, rep = await make_user("sales_user", seat="current")
        task = await rep.ok("post", "/tasks", {"title": "Call", "priority": "low"}, status=201)
        patched = await rep.ok("patch", f"/tasks/{task['id']}", {"priority": "high"})
        assert patched["priority"] == "high" and patched["title"] == "Call"
        done = await rep.ok("post", f"/tasks/{task['id']}/complete")
        assert done["prompt_follow_up"] is True and done["task"]["status"] == "completed"
        again = await rep.ok("post", f"/tasks/{task['id']}/complete")
        assert again["prompt_follow_up"] is False
        assert (await rep.ok("get", "/tasks"))["items"] == []
        completed = await rep.ok("get", "/tasks?status=completed")
        assert [t["id"] for t in completed["items"]] == [task["id"]]

    async def test_the_prompt_follows_the_owners_task_settings_ws_7(self, make_user) -> None:
        _, rep = await make_user("sales_user", seat="current")
        prompted = await rep.ok("post", "/tasks", {"title": "Call"}, status=201)
        assert (await rep.ok("post", f"/tasks/{prompted['id']}/complete"))["prompt_follow_up"]
        # "Turn it off in the task settings": later completions no longer prompt.
        await rep.ok(
            "patch", "/users/me", {"task_settings": {"prompt_follow_up_on_complete": False}}
        )
        quiet = await rep.ok("post", "/tasks", {"title": "Email"}, status=201)
        done = await rep.ok("post", f"/tasks/{quiet['id']}/complete")
        assert done["prompt_follow_up"] is False and done["task"]["status"] == "completed"
        await rep.ok(
            "patch", "/users/me", {"task_settings": {"prompt_follow_up_on_complete": True}}
        )
        again = await rep.ok("post", "/tasks", {"title": "Meet"}, status=201)
        assert (await rep.ok("post", f"/tasks/{again['id']}/complete"))["prompt_follow_up"]

    async def test_the_prompt_is_the_owners_not_the_completers_ws_7(self, admin, make_user) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        await rep.ok(
            "patch", "/users/me", {"task_settings": {"prompt_follow_up_on_complete": False}}
        )
        task = await rep.ok("post", "/tasks", {"title": "Call"}, status=201)
        # The super admin's own settings prompt; the owner's do not, and they decide.
        done = await admin.ok("post", f"/tasks/{task['id']}/complete")
        assert done["prompt_follow_up"] is False
        assert done["task"]["owner_id"] == owner["id"]

    async def test_a_sequence_task_carries_its_sequence_ga_13(self, admin, make_user) -> None:
        _, rep = await make_user("sales_user", seat="current")
        sequence = await admin.ok(
            "post", "/sequences", {"name": f"Seq {uuid.uuid4().hex[:8]}"}, status=201
        )
        task = await rep.ok(
            "post", "/tasks", {"title": "Step 1", "sequence_id": sequence["id"]}, status=201
        )
        plain = await rep.ok("post", "/tasks", {"title": "Other"}, status=201)
        assert task["sequence_id"] == sequence["id"] and plain["sequence_id"] is None
        listed = await rep.ok("get", f"/tasks?sequence_id={sequence['id']}")
        assert [t["id"] for t in listed["items"]] == [task["id"]]
        unknown = await rep.post("/tasks", {"title": "x", "sequence_id": 2**31 - 1})
        assert unknown.status_code == 422
        assert unknown.json()["errors"][0]["field"] == "sequence_id"

    async def test_unknown_references_name_the_field(self, make_user) -> None:
        _, rep = await make_user("sales_user", seat="current")
        response = await rep.post("/tasks", {"title": "x", "lead_id": 999999})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "lead_id"


class TestChainTasks:
    async def test_a_chain_task_shows_in_the_owners_list_with_its_lead_once(
        self, make_user, make_lead, session_factory: SessionFactory
    ) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        lead = await make_lead(owner_id=owner["id"])
        key = f"chain-{uuid.uuid4().hex}/a_00000001/0"
        config = CreateTaskConfig.model_validate(
            {"title": "Call {{contact.first_name}}", "due_in": "P1D", "priority": "high"}
        )
        now = datetime.now(UTC)
        async with session_factory() as session:
            first = await chain_effects.create_task(session, key, lead["id"], config, now=now)
        async with session_factory() as session:
            again = await chain_effects.create_task(session, key, lead["id"], config, now=now)
        assert first == again
        listed = await rep.ok("get", f"/tasks?lead_id={lead['id']}")
        assert len(listed["items"]) == 1
        task = listed["items"][0]
        assert task["id"] == first["task_id"] and task["title"] == "Call Jo"
        assert task["lead_id"] == lead["id"] and task["contact_id"] == lead["contact_id"]
        assert task["owner_id"] == owner["id"] and task["priority"] == "high"


class TestRecordTasks:
    async def test_admins_filtering_by_a_record_see_every_users_tasks_of_it_perm_8(
        self, admin, make_user, make_lead
    ) -> None:
        """A record's tasks are not a queue: an admin sees everyone's; queues stay private."""
        first, first_api = await make_user("sales_user", seat="current")
        second, second_api = await make_user("sales_user", seat="current")
        _, boss = await make_user("admin", seat="current")
        lead = await make_lead(owner_id=first["id"])
        mine = await first_api.ok("post", "/tasks", {"title": "Call", "lead_id": lead["id"]})
        theirs = await second_api.ok("post", "/tasks", {"title": "Email", "lead_id": lead["id"]})
        await second_api.ok("post", "/tasks", {"title": "Elsewhere"})
        everyone = [mine["id"], theirs["id"]]
        for api in (boss, admin):
            listed = await api.ok("get", f"/tasks?lead_id={lead['id']}")
            assert [t["id"] for t in listed["items"]] == everyone
            contact = await api.ok("get", f"/tasks?contact_id={lead['contact_id']}")
            assert [t["id"] for t in contact["items"]] == everyone
        own = await first_api.ok("get", f"/tasks?lead_id={lead['id']}")
        assert [t["id"] for t in own["items"]] == [mine["id"]]
        assert (await boss.ok("get", "/tasks"))["items"] == []
        refused = await boss.get(f"/tasks?lead_id={lead['id']}&user_id={second['id']}")
        assert refused.status_code == 403

    async def test_the_schema_says_whose_tasks_a_list_returns(self, app) -> None:
        operation = app.openapi()["paths"]["/v1/tasks"]["get"]
        assert "every user's tasks of that record" in operation["description"]
        lead_id = next(p for p in operation["parameters"] if p["name"] == "lead_id")
        assert "A sales user gets their own" in lead_id["description"]
