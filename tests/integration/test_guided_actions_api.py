"""Guided actions through HTTP on the real stack: made the way users work (meetings, calls,
leads, tasks and deal activity posted through the API, GA-1), listed by category (GA-5), one
action per type listing every matching record (GA-3), its queue with record previews and
one-at-a-time completion (GA-6), its record list (GA-7), feedback (GA-8), the workspace
summary's counts, and who may see them (PERM-3, PERM-8, PERM-9)."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.integration.eventually import eventually
from tests.stack import Api, MakeUser

# Every test here reads what the evaluations made (tests/stack.py StackOrchestrator).
pytestmark = pytest.mark.usefixtures("guided_evaluations")

# The engine evaluates changes asynchronously (outbox, then a workflow per object): allow it
# time on a loaded machine.
WAIT = 60.0
Action = dict[str, Any]


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


async def seated(make_user: MakeUser, **fields: Any) -> tuple[dict[str, Any], Api]:
    return await make_user("sales_user", seat="current", **fields)


async def listed(api: Api, **params: Any) -> list[Action]:
    response = await api.get("/guided-actions", **params)
    assert response.status_code == 200, response.text
    found: list[Action] = response.json()
    return found


def of_type(actions: list[Action], guided_type: str) -> Action | None:
    return next((a for a in actions if a["type"] == guided_type), None)


def item_ids(action: Action | None) -> set[int]:
    return {i["id"] for i in action["items"]} if action else set()


async def action_listing(api: Api, guided_type: str, *object_ids: int, **params: Any) -> Action:
    """The action of that type once it lists every one of the records."""
    found = await eventually(
        lambda: listed(api, **params),
        lambda actions: set(object_ids) <= item_ids(of_type(actions, guided_type)),
        timeout=WAIT,
    )
    action = of_type(found, guided_type)
    assert action is not None and set(object_ids) <= item_ids(action), (
        f"no {guided_type} action lists {object_ids}: {found}"
    )
    return action


async def no_longer_listing(api: Api, guided_type: str, object_id: int) -> None:
    found = await eventually(
        lambda: listed(api),
        lambda actions: object_id not in item_ids(of_type(actions, guided_type)),
        timeout=WAIT,
    )
    assert object_id not in item_ids(of_type(found, guided_type)), found


async def contact(admin: Api, **fields: Any) -> dict[str, Any]:
    body = {"first_name": "Jo", "last_name": uuid.uuid4().hex[:6], **fields}
    made: dict[str, Any] = await admin.ok("post", "/contacts", body, status=201)
    return made


async def past_meeting(rep: Api, **fields: Any) -> dict[str, Any]:
    """A meeting that ended two hours ago, its outcome still `scheduled` (GA-15)."""
    body = {"title": "Demo", "start": ago(hours=3), "end": ago(hours=2), **fields}
    made: dict[str, Any] = await rep.ok("post", "/meetings", body, status=201)
    return made


def daytime_zone() -> str:
    """A zone where the next hour is still today, so a task due in an hour is due today."""
    for zone in ("UTC", "Pacific/Kiritimati", "America/Los_Angeles", "Asia/Tokyo"):
        local = datetime.now(ZoneInfo(zone))
        if 1 <= local.hour <= 21:
            return zone
    raise AssertionError("every zone tried is near midnight")


async def urgent_task(rep: Api, title: str = "Call Jo") -> dict[str, Any]:
    """A high-priority task due in an hour: today, in the owner's zone (GA-22)."""
    due = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    body = {"title": title, "priority": "high", "due_at": due}
    made: dict[str, Any] = await rep.ok("post", "/tasks", body, status=201)
    return made


async def urgent_rep(make_user: MakeUser) -> tuple[dict[str, Any], Api]:
    return await seated(make_user, time_zone=daytime_zone())


class TestActionsAreMadeFromWhatUsersDo:
    async def test_a_meeting_ended_two_hours_ago_without_outcome_asks_for_one_ga_15(
        self, admin, make_user
    ) -> None:
        _, rep = await seated(make_user)
        jo = await contact(admin, email="jo@acme.io")
        meeting = await past_meeting(rep, title="Trial review", contact_ids=[jo["id"]])

        action = await action_listing(rep, "log_meeting_outcome", meeting["id"])

        assert action["title"] == "Log meeting outcome"
        assert action["category"] == "all"
        item = next(i for i in action["items"] if i["id"] == meeting["id"])
        assert item["object"] == "meeting" and item["name"] == "Trial review"
        # GA-4: the meeting's contact at creation.
        assert [c["id"] for c in item["associations"]["contacts"]] == [jo["id"]]

        await rep.ok("post", f"/meetings/{meeting['id']}/outcome", {"outcome": "completed"})

        await no_longer_listing(rep, "log_meeting_outcome", meeting["id"])
        # It was the action's only item: the action is gone with it (GA-2).
        assert (await rep.get(f"/guided-actions/{action['id']}")).status_code == 404

    async def test_a_call_without_an_outcome_asks_for_one_ga_17(self, admin, make_user) -> None:
        rep_user, rep = await seated(make_user)
        jo = await contact(admin)
        posted = await admin.ok(
            "post",
            "/activities",
            {
                "event_id": uuid.uuid4().hex,
                "type": "call",
                "occurred_at": ago(hours=2),
                "user_id": rep_user["id"],
                "contact_id": jo["id"],
                "call": {"status": "completed"},
            },
            status=202,
        )
        call_id = posted["call_id"]

        action = await action_listing(rep, "log_call_outcome", call_id)

        assert action["title"] == "Log call outcome" and action["category"] == "all"
        queue = await rep.ok("get", f"/guided-actions/{action['id']}")
        item = next(i for i in queue["items"] if i["id"] == call_id)
        assert item["preview"]["contact"]["id"] == jo["id"]

        await rep.ok("post", f"/calls/{call_id}/outcome", {"outcome": "connected"})

        await no_longer_listing(rep, "log_call_outcome", call_id)

    async def test_a_newly_assigned_lead_is_a_prospecting_action_with_a_record_list_ga_11(
        self, make_user, make_lead
    ) -> None:
        rep_user, rep = await seated(make_user)
        lead = await make_lead(owner_id=rep_user["id"], name="Acme trial")

        action = await action_listing(rep, "newly_assigned_leads", lead["id"])

        assert action["category"] == "prospecting" and action["has_record_list"] is True
        assert action["id"] in [a["id"] for a in await listed(rep, category="prospecting")]
        records = await rep.ok("get", f"/guided-actions/{action['id']}/records")
        assert records["object"] == "lead"
        entry = next(r for r in records["items"] if r["id"] == lead["id"])
        assert entry["preview"]["lead"]["id"] == lead["id"]
        assert entry["preview"]["contact"]["id"] == lead["contact_id"]

    async def test_a_high_priority_task_due_today_is_an_action_in_all_only_ga_22(
        self, make_user
    ) -> None:
        _, rep = await urgent_rep(make_user)
        task = await urgent_task(rep)

        action = await action_listing(rep, "high_priority_tasks_due_today", task["id"])

        assert action["title"] == "High-priority tasks due today"
        assert action["category"] == "all" and action["has_record_list"] is False
        for category in ("closing", "prospecting"):
            assert action["id"] not in [a["id"] for a in await listed(rep, category=category)]
        # No second link for tasks: they are worked in the queue (GA-7).
        assert (await rep.get(f"/guided-actions/{action['id']}/records")).status_code == 404

    async def test_a_buyer_who_opened_an_email_a_week_ago_needs_a_follow_up_ga_28(
        self, admin, make_user
    ) -> None:
        rep_user, rep = await seated(make_user)
        buyer = await contact(admin, email="buyer@acme.io")
        deal = await admin.ok(
            "post",
            "/deals",
            {"name": "Acme renewal", "owner_id": rep_user["id"], "contact_id": buyer["id"]},
            status=201,
        )
        opened = {
            "event_id": uuid.uuid4().hex,
            "type": "email_open",
            "occurred_at": ago(days=8),
            "user_id": rep_user["id"],
            "contact_id": buyer["id"],
        }
        await admin.ok("post", "/activities", opened, status=202)

        action = await action_listing(rep, "buyer_follow_up", deal["id"], category="closing")

        assert action["category"] == "closing" and action["title"] == "Buyer follow-up"
        assert action["id"] not in [a["id"] for a in await listed(rep, category="prospecting")]
        records = await rep.ok("get", f"/guided-actions/{action['id']}/records")
        entry = next(r for r in records["items"] if r["id"] == deal["id"])
        assert entry["preview"]["deal"]["name"] == "Acme renewal"
        assert entry["preview"]["contact"]["id"] == buyer["id"]

        replied = {**opened, "event_id": uuid.uuid4().hex, "type": "email_reply"}
        await admin.ok(
            "post", "/activities", {**replied, "occurred_at": ago(minutes=1)}, status=202
        )

        await no_longer_listing(rep, "buyer_follow_up", deal["id"])


class TestTheQueue:
    async def test_one_action_lists_every_matching_record_ga_3(self, make_user) -> None:
        _, rep = await urgent_rep(make_user)
        first, second = await urgent_task(rep, "Call Jo"), await urgent_task(rep, "Call Al")

        action = await action_listing(
            rep, "high_priority_tasks_due_today", first["id"], second["id"]
        )

        same_type = [a for a in await listed(rep) if a["type"] == action["type"]]
        assert len(same_type) == 1
        assert sorted(i["id"] for i in action["items"]) == [first["id"], second["id"]]
        assert {i["name"] for i in action["items"]} == {"Call Jo", "Call Al"}

    async def test_items_are_done_one_at_a_time_and_the_last_ends_the_action_ga_6(
        self, make_user
    ) -> None:
        _, rep = await urgent_rep(make_user)
        first, second = await urgent_task(rep, "Call Jo"), await urgent_task(rep, "Call Al")
        action = await action_listing(
            rep, "high_priority_tasks_due_today", first["id"], second["id"]
        )
        path = f"/guided-actions/{action['id']}"

        queue = await rep.ok("get", path)
        assert (queue["total"], queue["done"]) == (2, 0)
        assert queue["primary_link"] == "Start tasks"
        # Queue order is the order the items were made in; walk it as given.
        head, tail = queue["items"]
        assert {head["id"], tail["id"]} == {first["id"], second["id"]}
        assert (head["position"], head["previous"]) == (1, None)
        assert head["next"] == {"object": "task", "id": tail["id"]}
        assert (tail["position"], tail["next"]) == (2, None)
        assert tail["previous"] == {"object": "task", "id": head["id"]}

        done = await rep.ok("post", f"{path}/items/task/{head['id']}/done")
        assert done == {
            "done": {"object": "task", "id": head["id"]},
            "remaining": 1,
            "action_ended": False,
            "next": {"object": "task", "id": tail["id"]},
        }
        queue = await rep.ok("get", path)
        assert (queue["total"], queue["done"]) == (1, 1)
        assert [(i["id"], i["position"]) for i in queue["items"]] == [(tail["id"], 1)]
        # Done is done: a second time, there is no such open item.
        again = await rep.post(f"{path}/items/task/{head['id']}/done")
        assert again.status_code == 404

        last = await rep.ok("post", f"{path}/items/task/{tail['id']}/done")
        assert (last["remaining"], last["action_ended"], last["next"]) == (0, True, None)
        assert (await rep.get(path)).status_code == 404
        assert action["id"] not in [a["id"] for a in await listed(rep)]

    async def test_the_queue_pages_and_keeps_positions_across_pages_ga_6(self, make_user) -> None:
        _, rep = await urgent_rep(make_user)
        tasks = [await urgent_task(rep, f"Call {n}") for n in range(3)]
        action = await action_listing(
            rep, "high_priority_tasks_due_today", *(t["id"] for t in tasks)
        )
        path = f"/guided-actions/{action['id']}"

        first = await rep.ok("get", f"{path}?limit=2")
        second = await rep.ok("get", f"{path}?limit=2&cursor={first['next_cursor']}")

        assert [i["position"] for i in first["items"]] == [1, 2]
        assert [i["position"] for i in second["items"]] == [3]
        assert second["next_cursor"] is None and second["total"] == 3
        last_of_first, only = first["items"][-1], second["items"][0]
        assert last_of_first["next"] == {"object": "task", "id": only["id"]}
        assert only["previous"] == {"object": "task", "id": last_of_first["id"]}
        bad = await rep.get(path, cursor="not-a-cursor")
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"

    async def test_a_queue_item_previews_its_records_ws_6(self, admin, make_user) -> None:
        _, rep = await urgent_rep(make_user)
        acme = await admin.ok("post", "/companies", {"name": "Acme"}, status=201)
        jo = await contact(admin, company_id=acme["id"])
        task = await urgent_task(rep)
        await rep.ok("patch", f"/tasks/{task['id']}", {"contact_id": jo["id"]})
        action = await action_listing(rep, "high_priority_tasks_due_today", task["id"])

        queue = await rep.ok("get", f"/guided-actions/{action['id']}")

        preview = next(i for i in queue["items"] if i["id"] == task["id"])["preview"]
        assert preview["contact"]["id"] == jo["id"]
        assert preview["lead"] is None and preview["deal"] is None

    async def test_feedback_is_stored_per_action_and_user_and_updated_ga_8(self, make_user) -> None:
        rep_user, rep = await urgent_rep(make_user)
        task = await urgent_task(rep)
        action = await action_listing(rep, "high_priority_tasks_due_today", task["id"])
        path = f"/guided-actions/{action['id']}"
        assert (await rep.ok("get", path))["feedback"] is None

        first = await rep.ok("post", f"{path}/feedback", {"useful": True})
        assert (first["action_id"], first["user_id"], first["useful"]) == (
            action["id"],
            rep_user["id"],
            True,
        )
        assert (await rep.ok("get", path))["feedback"]["useful"] is True

        second = await rep.ok("post", f"{path}/feedback", {"useful": False})
        assert second["useful"] is False and second["updated_at"] >= first["updated_at"]
        assert (await rep.ok("get", path))["feedback"]["useful"] is False

    async def test_the_summary_counts_match_the_lists(self, make_user, make_lead) -> None:
        rep_user, rep = await urgent_rep(make_user)
        task = await urgent_task(rep)
        lead = await make_lead(owner_id=rep_user["id"])
        await action_listing(rep, "high_priority_tasks_due_today", task["id"])
        await action_listing(rep, "newly_assigned_leads", lead["id"])

        summary = (await rep.ok("get", "/workspace/summary"))["guided_actions"]

        every = await listed(rep)
        assert summary["all"] == len(every) >= 2
        assert summary["closing"] == len(await listed(rep, category="closing"))
        assert summary["prospecting"] == len(await listed(rep, category="prospecting")) >= 1
        assert [a["id"] for a in summary["items"]] == [a["id"] for a in every][:10]


class TestWhoSeesThem:
    async def test_another_rep_is_told_the_action_does_not_exist_perm_8(self, make_user) -> None:
        rep_user, rep = await urgent_rep(make_user)
        _, other = await seated(make_user)
        task = await urgent_task(rep)
        action = await action_listing(rep, "high_priority_tasks_due_today", task["id"])
        path = f"/guided-actions/{action['id']}"

        for response in (
            await other.get(path),
            await other.get(f"{path}/records"),
            await other.post(f"{path}/items/task/{task['id']}/done"),
            await other.post(f"{path}/feedback", {"useful": False}),
        ):
            assert response.status_code == 404, response.text
            assert response.json()["type"] == "/problems/not-found"
        assert action["id"] not in [a["id"] for a in await listed(other)]
        # Naming the owner in the list is refused outright (PERM-4).
        refused = await other.get("/guided-actions", user_id=rep_user["id"])
        assert refused.status_code == 403
        # Nothing the other rep tried changed the action.
        assert (await rep.ok("get", path))["total"] == 1

    async def test_a_super_admin_sees_a_users_actions_with_meetings_as_busy_perm_8(
        self, admin, make_user
    ) -> None:
        rep_user, rep = await seated(make_user)
        jo = await contact(admin)
        meeting = await past_meeting(rep, title="Pricing talk", contact_ids=[jo["id"]])
        own = await action_listing(rep, "log_meeting_outcome", meeting["id"])

        seen = await action_listing(
            admin, "log_meeting_outcome", meeting["id"], user_id=rep_user["id"]
        )

        assert seen["id"] == own["id"] and seen["user_id"] == rep_user["id"]
        # PERM-5: another user's meeting is a busy slot, without its title or attendees.
        item = next(i for i in seen["items"] if i["id"] == meeting["id"])
        assert item["name"] == "Busy" and item["associations"]["contacts"] == []
        queue = await admin.ok("get", f"/guided-actions/{own['id']}")
        queued = next(i for i in queue["items"] if i["id"] == meeting["id"])
        assert queued["preview"]["contact"] is None
        summary = await admin.ok("get", f"/workspace/summary?user_id={rep_user['id']}")
        assert own["id"] in [a["id"] for a in summary["guided_actions"]["items"]]
        # Without `user_id` it is the super admin's own workspace, which needs a seat (PERM-3).
        own_list = await admin.get("/guided-actions")
        assert own_list.status_code == 403
        assert own_list.json()["type"] == "/problems/seat-required"

    async def test_without_a_current_seat_every_guided_action_endpoint_is_403_perm_3(
        self, make_user
    ) -> None:
        _, legacy = await make_user("sales_user", seat="legacy")
        _, seatless = await make_user("sales_user")
        for api in (legacy, seatless):
            for response in (
                await api.get("/guided-actions"),
                await api.get("/guided-actions/1"),
                await api.get("/guided-actions/1/records"),
                await api.post("/guided-actions/1/items/task/1/done"),
                await api.post("/guided-actions/1/feedback", {"useful": True}),
            ):
                assert response.status_code == 403, response.text
                assert response.json()["type"] == "/problems/seat-required"

    async def test_an_action_that_does_not_exist_is_404(self, make_user) -> None:
        _, rep = await seated(make_user)
        assert (await rep.get("/guided-actions/2147483647")).status_code == 404
        assert (
            await rep.post("/guided-actions/2147483647/feedback", {"useful": True})
        ).status_code == 404


class TestBadInput:
    async def test_an_unknown_category_is_a_422_naming_it(self, make_user) -> None:
        _, rep = await seated(make_user)
        response = await rep.get("/guided-actions", category="renewals")
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "category"

    async def test_an_unknown_object_kind_is_a_422_naming_it(self, make_user) -> None:
        _, rep = await seated(make_user)
        response = await rep.post("/guided-actions/1/items/invoice/1/done")
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "object"

    async def test_feedback_must_be_true_or_false(self, make_user) -> None:
        _, rep = await seated(make_user)
        for body in ({"useful": "yes"}, {}, {"useful": True, "comment": "x"}):
            response = await rep.post("/guided-actions/1/feedback", body)
            assert response.status_code == 422, body
            assert response.json()["errors"][0]["field"] in ("useful", "comment")

    async def test_a_misspelt_query_parameter_is_a_422_naming_it(self, make_user) -> None:
        _, rep = await seated(make_user)
        response = await rep.get("/guided-actions", categroy="closing")
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "categroy"


@pytest.fixture
async def workspace_off(admin: Api) -> AsyncIterator[None]:
    """The workspace off for one test; the tests share one database, so it is turned back on."""
    await admin.ok("put", "/settings/workspace", {"enabled": False})
    try:
        yield
    finally:
        await admin.ok("put", "/settings/workspace", {"enabled": True})


async def test_with_the_workspace_off_guided_actions_are_404_perm_9(
    make_user, workspace_off
) -> None:
    _, rep = await seated(make_user)
    for response in (
        await rep.get("/guided-actions"),
        await rep.get("/guided-actions/1"),
        await rep.post("/guided-actions/1/feedback", {"useful": True}),
    ):
        assert response.status_code == 404
