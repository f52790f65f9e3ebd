"""Working through tasks: a task's place in a queue of its view, walked with previous and next
in the order of the view's list (WS-4), its record preview (WS-6), and bulk edit, delete,
reschedule and reassign with one result per task (WS-5, PERM-8)."""

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from db.engine import SessionFactory
from db.models import User
from domain.tasks import TaskView
from services import tasks as tasks_service
from tests.stack import Api, MakeUser

ZONE = ZoneInfo("Pacific/Kiritimati")


def local(days: int, hour: int = 12) -> str:
    today = datetime.now(ZONE).date() + timedelta(days=days)
    return datetime(today.year, today.month, today.day, hour, tzinfo=ZONE).isoformat()


async def seated(make_user: MakeUser, **fields: Any) -> tuple[dict[str, Any], Api]:
    return await make_user("sales_user", seat="current", time_zone="Pacific/Kiritimati", **fields)


async def task(api: Api, title: str, due: str | None = None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"title": title, **fields}
    if due is not None:
        body["due_at"] = due
    made: dict[str, Any] = await api.ok("post", "/tasks", body, status=201)
    return made


class TestQueue:
    async def test_walking_a_queue_follows_the_views_order_ws_4(self, make_user) -> None:
        _, rep = await seated(make_user)
        # Created out of order; two share a due time, so the id decides between them.
        late = await task(rep, "late", local(0, 18))
        early = await task(rep, "early", local(0, 8))
        tie_a = await task(rep, "tie a", local(0, 12))
        tie_b = await task(rep, "tie b", local(0, 12))
        await task(rep, "tomorrow", local(1))
        listed = [t["id"] for t in (await rep.ok("get", "/tasks?view=today"))["items"]]
        assert listed == [early["id"], tie_a["id"], tie_b["id"], late["id"]]

        walked: list[int] = []
        current: int | None = listed[0]
        while current is not None:
            detail = await rep.ok("get", f"/tasks/{current}?view=today")
            queue = detail["queue"]
            assert queue["view"] == "today" and queue["total"] == 4
            assert queue["position"] == len(walked) + 1
            assert queue["previous_id"] == (walked[-1] if walked else None)
            walked.append(current)
            current = queue["next_id"]
        assert walked == listed

    async def test_the_all_view_puts_undated_tasks_last_by_id_ws_4(self, make_user) -> None:
        _, rep = await seated(make_user)
        undated_a = await task(rep, "someday a")
        dated = await task(rep, "dated", local(5))
        undated_b = await task(rep, "someday b")
        order = [dated["id"], undated_a["id"], undated_b["id"]]
        assert [t["id"] for t in (await rep.ok("get", "/tasks?view=all"))["items"]] == order
        queues = [(await rep.ok("get", f"/tasks/{i}?view=all"))["queue"] for i in order]
        assert [(q["position"], q["previous_id"], q["next_id"]) for q in queues] == [
            (1, None, undated_a["id"]),
            (2, dated["id"], undated_b["id"]),
            (3, undated_a["id"], None),
        ]
        # Pages of the list split the same order.
        first = await rep.ok("get", "/tasks?view=all&limit=1")
        rest = await rep.ok("get", f"/tasks?view=all&limit=2&cursor={first['next_cursor']}")
        assert [t["id"] for t in first["items"] + rest["items"]] == order

    async def test_a_task_out_of_the_view_has_no_position_but_neighbours_ws_4(
        self, make_user
    ) -> None:
        _, rep = await seated(make_user)
        first = await task(rep, "first", local(0, 8))
        middle = await task(rep, "middle", local(0, 12))
        last = await task(rep, "last", local(0, 16))
        await rep.ok("post", f"/tasks/{middle['id']}/complete")
        queue = (await rep.ok("get", f"/tasks/{middle['id']}?view=today"))["queue"]
        # Completed: out of the queue, which walks on from where it was.
        assert queue == {
            "view": "today",
            "position": None,
            "total": 2,
            "previous_id": first["id"],
            "next_id": last["id"],
        }
        tomorrow = await task(rep, "tomorrow", local(1))
        queue = (await rep.ok("get", f"/tasks/{tomorrow['id']}?view=today"))["queue"]
        assert (queue["position"], queue["previous_id"], queue["next_id"]) == (
            None,
            last["id"],
            None,
        )

    async def test_without_a_view_there_is_no_queue(self, make_user) -> None:
        _, rep = await seated(make_user)
        made = await task(rep, "x", local(0))
        detail = await rep.ok("get", f"/tasks/{made['id']}")
        assert detail["queue"] is None and detail["title"] == "x"

    async def test_a_queue_is_the_owners_in_the_owners_zone_perm_8(
        self, admin, make_user, session_factory: SessionFactory
    ) -> None:
        owner, rep = await make_user("sales_user", seat="current", time_zone="Europe/Helsinki")
        helsinki = ZoneInfo("Europe/Helsinki")
        now = datetime(2026, 3, 5, 0, 30, tzinfo=helsinki)  # 4 March in UTC
        mine = await task(rep, "Call Jo", datetime(2026, 3, 5, 23, 30, tzinfo=helsinki).isoformat())
        _, other = await seated(make_user)
        assert (await other.get(f"/tasks/{mine['id']}?view=today")).status_code == 404
        boss = await admin.ok("get", "/users/me")
        async with session_factory() as session:
            actor = await session.get(User, boss["id"])
        assert actor is not None and actor.time_zone == "UTC"
        async with session_factory() as session:
            detail = await tasks_service.get_task_detail(
                session, actor, mine["id"], TaskView.TODAY, now=now
            )
        # The super admin's own zone (UTC) would say tomorrow; the owner's says today.
        assert detail.queue is not None and detail.queue.position == 1
        assert detail.task.owner_id == owner["id"]


class TestPreview:
    async def test_a_task_previews_its_lead_contact_company_and_deal_ws_6(
        self, admin, make_user, make_lead
    ) -> None:
        _, rep = await seated(make_user)
        company = await admin.ok(
            "post",
            "/companies",
            {"name": f"Acme {uuid.uuid4().hex[:6]}", "domain": "acme.io"},
            status=201,
        )
        contact = await admin.ok(
            "post",
            "/contacts",
            {"first_name": "Jo", "last_name": "Lee", "email": "jo@acme.io"},
            status=201,
        )
        lead = await make_lead(contact_id=contact["id"], company_id=company["id"])
        deal = await admin.ok(
            "post", "/deals", {"name": "Acme pilot", "amount": "1200.00"}, status=201
        )
        made = await task(rep, "Call Jo", lead_id=lead["id"], deal_id=deal["id"])

        preview = (await rep.ok("get", f"/tasks/{made['id']}"))["preview"]

        assert preview["lead"] == {
            "id": lead["id"],
            "name": lead["name"],
            "pipeline_id": lead["pipeline_id"],
            "stage_id": lead["stage_id"],
            "label": None,
            "owner_id": None,
        }
        assert preview["contact"]["name"] == "Jo Lee"
        assert preview["contact"]["email"] == "jo@acme.io"
        assert preview["company"]["domain"] == "acme.io"
        assert preview["company"]["is_target_account"] is False
        assert (preview["deal"]["name"], preview["deal"]["amount"]) == ("Acme pilot", "1200.00")
        plain = await task(rep, "Nothing attached")
        assert (await rep.ok("get", f"/tasks/{plain['id']}"))["preview"] == {
            "lead": None,
            "contact": None,
            "company": None,
            "deal": None,
        }

    async def test_a_deal_the_reader_may_not_see_is_left_out_perm_7(self, admin, make_user) -> None:
        owner, rep = await seated(make_user)
        await admin.ok("patch", f"/users/{owner['id']}", {"permissions": {"deals": "owned"}})
        theirs = await admin.ok("post", "/deals", {"name": "Not yours"}, status=201)
        own = await admin.ok(
            "post", "/deals", {"name": "Yours", "owner_id": owner["id"]}, status=201
        )
        hidden = await task(rep, "About their deal", deal_id=theirs["id"])
        shown = await task(rep, "About my deal", deal_id=own["id"])
        assert (await rep.ok("get", f"/tasks/{hidden['id']}"))["preview"]["deal"] is None
        assert (await rep.ok("get", f"/tasks/{shown['id']}"))["preview"]["deal"]["id"] == own["id"]


async def bulk(api: Api, body: dict[str, Any]) -> list[dict[str, Any]]:
    answer = await api.ok("post", "/tasks:bulk", body)
    results: list[dict[str, Any]] = answer["results"]
    return results


class TestBulk:
    async def test_own_others_and_missing_tasks_get_200_403_404_each_ws_5(self, make_user) -> None:
        _, rep = await seated(make_user)
        _, other = await seated(make_user)
        mine = [await task(rep, f"mine {i}", local(0)) for i in range(2)]
        theirs = await task(other, "theirs", local(0))
        missing = 2_147_483_000
        order = [mine[0]["id"], theirs["id"], missing, mine[1]["id"]]

        results = await bulk(
            rep, {"action": "edit", "task_ids": order, "changes": {"priority": "high"}}
        )

        assert [(r["task_id"], r["status"]) for r in results] == [
            (mine[0]["id"], 200),
            (theirs["id"], 403),
            (missing, 404),
            (mine[1]["id"], 200),
        ]
        assert results[0]["task"]["priority"] == "high" and results[0]["error"] is None
        assert results[1]["task"] is None
        assert results[1]["error"]["type"] == "/problems/forbidden"
        assert results[1]["error"]["status"] == 403
        assert results[2]["error"]["type"] == "/problems/not-found"
        for made in mine:
            assert (await rep.ok("get", f"/tasks/{made['id']}"))["priority"] == "high"
        assert (await other.ok("get", f"/tasks/{theirs['id']}"))["priority"] == "none"

    async def test_edit_sets_only_the_fields_given_ws_5(self, make_user) -> None:
        _, rep = await seated(make_user)
        made = await task(rep, "Call", local(0), notes="keep", priority="low")
        [result] = await bulk(
            rep,
            {
                "action": "edit",
                "task_ids": [made["id"]],
                "changes": {"title": "Email", "type": "email"},
            },
        )
        changed = result["task"]
        assert (changed["title"], changed["type"]) == ("Email", "email")
        assert (changed["notes"], changed["priority"]) == ("keep", "low")
        assert datetime.fromisoformat(changed["due_at"]) == datetime.fromisoformat(made["due_at"])

    async def test_reschedule_moves_tasks_between_buckets_ws_5(self, make_user) -> None:
        _, rep = await seated(make_user)
        made = [await task(rep, f"t{i}", local(0)) for i in range(3)]
        results = await bulk(
            rep,
            {
                "action": "reschedule",
                "task_ids": [t["id"] for t in made[:2]],
                "due_at": local(1, 9),
            },
        )
        assert [r["status"] for r in results] == [200, 200]
        today = [t["id"] for t in (await rep.ok("get", "/tasks?view=today"))["items"]]
        tomorrow = [t["id"] for t in (await rep.ok("get", "/tasks?view=tomorrow"))["items"]]
        assert today == [made[2]["id"]] and tomorrow == [made[0]["id"], made[1]["id"]]

    async def test_reassign_hands_tasks_to_a_colleague_ws_5(self, make_user) -> None:
        _, rep = await seated(make_user)
        colleague, other = await seated(make_user)
        made = await task(rep, "Hand over", local(0))
        [result] = await bulk(
            rep, {"action": "reassign", "task_ids": [made["id"]], "owner_id": colleague["id"]}
        )
        assert result["status"] == 200 and result["task"]["owner_id"] == colleague["id"]
        assert [t["id"] for t in (await other.ok("get", "/tasks"))["items"]] == [made["id"]]
        assert (await rep.get(f"/tasks/{made['id']}")).status_code == 404

    async def test_delete_removes_the_callers_tasks_only_ws_5(self, make_user) -> None:
        _, rep = await seated(make_user)
        _, other = await seated(make_user)
        mine = await task(rep, "Gone")
        theirs = await task(other, "Stays")
        results = await bulk(rep, {"action": "delete", "task_ids": [mine["id"], theirs["id"]]})
        assert [(r["status"], r["task"], r["error"] is None) for r in results] == [
            (204, None, True),
            (403, None, False),
        ]
        assert (await rep.get(f"/tasks/{mine['id']}")).status_code == 404
        assert (await other.get(f"/tasks/{theirs['id']}")).status_code == 200

    async def test_a_super_admin_changes_any_users_tasks_perm_4(self, admin, make_user) -> None:
        _, rep = await seated(make_user)
        made = await task(rep, "Call", local(0))
        [result] = await bulk(
            admin, {"action": "edit", "task_ids": [made["id"]], "changes": {"priority": "low"}}
        )
        assert result["status"] == 200
        assert (await rep.ok("get", f"/tasks/{made['id']}"))["priority"] == "low"

    async def test_a_bad_request_names_the_field_and_changes_nothing(self, make_user) -> None:
        _, rep = await seated(make_user)
        made = await task(rep, "Call", local(0))
        tid = made["id"]
        for body, field, rule in (
            ({"action": "edit", "task_ids": [tid]}, "changes", "required_for_action"),
            (
                {"action": "edit", "task_ids": [tid], "changes": {}},
                "changes",
                "required_for_action",
            ),
            ({"action": "reschedule", "task_ids": [tid]}, "due_at", "required_for_action"),
            ({"action": "reassign", "task_ids": [tid]}, "owner_id", "required_for_action"),
            (
                {"action": "delete", "task_ids": [tid], "due_at": local(1)},
                "due_at",
                "not_for_action",
            ),
            ({"action": "delete", "task_ids": [tid, tid]}, "task_ids", "unique"),
            ({"action": "delete", "task_ids": []}, "task_ids", "too_short"),
            ({"action": "delete", "task_ids": list(range(1, 502))}, "task_ids", "too_long"),
            ({"action": "archive", "task_ids": [tid]}, "action", "enum"),
            (
                {"action": "edit", "task_ids": [tid], "changes": {"owner_id": 1}},
                "changes.owner_id",
                "extra_forbidden",
            ),
            (
                {"action": "reassign", "task_ids": [tid], "owner_id": 2_147_483_000},
                "owner_id",
                "exists",
            ),
        ):
            response = await rep.post("/tasks:bulk", body)
            assert response.status_code == 422, (body, response.text)
            error = response.json()["errors"][0]
            assert (error["field"], error["rule"]) == (field, rule), body
        assert (await rep.ok("get", f"/tasks/{tid}"))["title"] == "Call"

    async def test_results_come_in_the_order_given_for_500_tasks_ws_5(self, make_user) -> None:
        _, rep = await seated(make_user)
        made = [await task(rep, f"t{i}") for i in range(5)]
        order = [t["id"] for t in reversed(made)] + list(range(2_147_483_100, 2_147_483_595))
        results = await bulk(rep, {"action": "reschedule", "task_ids": order, "due_at": local(2)})
        assert [r["task_id"] for r in results] == order
        assert [r["status"] for r in results] == [200] * 5 + [404] * 495
