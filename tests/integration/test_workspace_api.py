"""The sales workspace through HTTP and its services: summary (WS-1), buckets and windows in
the viewed user's time zone (WS-3), schedule with overlaps (WS-9, WS-10), feed (WS-13), leads
board (WS-8), and who may see which workspace (PERM-3 to PERM-6, PERM-9)."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from db.engine import SessionFactory
from db.models import User
from domain.workspace import ScheduleRange
from services import schedule, workspace
from tests.stack import Api, MakeUser

HELSINKI = ZoneInfo("Europe/Helsinki")
DAYS = timedelta(days=1)
BUSY_KEYS = {"kind", "id", "title", "start", "end", "busy"}


def iso(at: datetime) -> str:
    return at.isoformat()


async def seated(make_user: MakeUser, **fields: Any) -> tuple[dict[str, Any], Api]:
    return await make_user("sales_user", seat="current", **fields)


async def task(api: Api, title: str, due: datetime | None, **fields: Any) -> dict[str, Any]:
    body = {"title": title, **fields}
    if due is not None:
        body["due_at"] = iso(due)
    made: dict[str, Any] = await api.ok("post", "/tasks", body, status=201)
    return made


async def meeting(api: Api, start: datetime, end: datetime, **fields: Any) -> dict[str, Any]:
    body = {"title": fields.pop("title", "Demo"), "start": iso(start), "end": iso(end), **fields}
    made: dict[str, Any] = await api.ok("post", "/meetings", body, status=201)
    return made


async def contact(admin: Api, **fields: Any) -> dict[str, Any]:
    body = {"first_name": "Jo", "last_name": uuid.uuid4().hex[:6], **fields}
    made: dict[str, Any] = await admin.ok("post", "/contacts", body, status=201)
    return made


async def user_row(session_factory: SessionFactory, user_id: int) -> User:
    async with session_factory() as session:
        found = await session.get(User, user_id)
        assert found is not None
        return found


def ids(items: list[dict[str, Any]]) -> list[int]:
    return [i["id"] for i in items]


class TestSummary:
    @pytest.mark.usefixtures("guided_evaluations")  # its guided-action count
    async def test_the_summary_counts_and_lists_the_users_day_ws_1(self, admin, make_user) -> None:
        rep_user, rep = await seated(make_user, time_zone="Pacific/Kiritimati")
        zone = ZoneInfo("Pacific/Kiritimati")
        today = datetime.now(zone).date()

        def local(days: int, hour: int) -> datetime:
            d = today + timedelta(days=days)
            return datetime(d.year, d.month, d.day, hour, tzinfo=zone)

        overdue = [await task(rep, f"old {i}", local(-1 - i, 9)) for i in range(12)]
        due_today = await task(rep, "today", local(0, 23))
        due_tomorrow = await task(rep, "tomorrow", local(1, 0))
        await task(rep, "later", local(3, 9))
        done = await task(rep, "done", local(0, 8))
        await rep.ok("post", f"/tasks/{done['id']}/complete")
        soon = await meeting(rep, local(2, 10), local(2, 11), title="Kick-off")
        await meeting(rep, local(9, 10), local(9, 11), title="Too far")
        await meeting(rep, local(2, 0), local(2, 23), kind="busy", title="Out of office")

        summary = await rep.ok("get", "/workspace/summary")

        assert summary["user"] == {
            "id": rep_user["id"],
            "name": rep_user["name"],
            "time_zone": "Pacific/Kiritimati",
        }
        tasks = summary["tasks"]
        assert tasks["overdue"]["count"] == 12
        # The first ten, by due time: the oldest first.
        assert ids(tasks["overdue"]["items"]) == [t["id"] for t in reversed(overdue)][:10]
        assert (tasks["today"]["count"], ids(tasks["today"]["items"])) == (1, [due_today["id"]])
        assert ids(tasks["tomorrow"]["items"]) == [due_tomorrow["id"]]
        upcoming = summary["upcoming_meetings"]
        assert upcoming["count"] == 1 and ids(upcoming["items"]) == [soon["id"]]
        assert upcoming["items"][0]["title"] == "Kick-off"
        assert summary["insights"]["tasks"]["count"] == 1
        assert ids(summary["insights"]["tasks"]["items"]) == [done["id"]]
        assert [i["id"] for i in summary["schedule_today"] if i["kind"] == "task"] == [
            due_today["id"]
        ]
        assert summary["feed_preview"] == []
        assert summary["guided_actions"]["all"] == len(summary["guided_actions"]["items"])

    async def test_23_30_in_helsinki_is_today_there_and_tomorrow_in_utc_ws_3(
        self, make_user, session_factory
    ) -> None:
        helsinki_user, helsinki = await seated(make_user, time_zone="Europe/Helsinki")
        utc_user, utc = await seated(make_user, time_zone="UTC")
        # 00:30 on 5 March in Helsinki is still 4 March in UTC.
        now = datetime(2026, 3, 5, 0, 30, tzinfo=HELSINKI)
        due = datetime(2026, 3, 5, 23, 30, tzinfo=HELSINKI)
        there = await task(helsinki, "Call Jo", due)
        here = await task(utc, "Call Jo", due)

        async with session_factory() as session:
            in_helsinki = await workspace.summary(
                session, await user_row(session_factory, helsinki_user["id"]), now=now
            )
        async with session_factory() as session:
            in_utc = await workspace.summary(
                session, await user_row(session_factory, utc_user["id"]), now=now
            )

        assert [t.id for t in in_helsinki.today.items] == [there["id"]]
        assert in_helsinki.tomorrow.count == 0
        assert [t.id for t in in_utc.tomorrow.items] == [here["id"]]
        assert in_utc.today.count == 0

    async def test_a_super_admin_sees_another_users_meetings_as_busy_only_perm_5(
        self, admin, make_user
    ) -> None:
        owner, rep = await seated(make_user)
        jo = await contact(admin)
        start = datetime.now(UTC) + timedelta(hours=2)
        secret = await meeting(
            rep,
            start,
            start + timedelta(hours=1),
            title="Budget talk with Acme",
            location="Acme HQ",
            meeting_url="https://meet.example.com/secret",
            notes="They are cutting the budget",
            attendees=[{"email": "jo@acme.io", "name": "Jo"}],
            contact_ids=[jo["id"]],
        )
        own_view = await rep.ok("get", "/workspace/summary")
        assert own_view["upcoming_meetings"]["items"][0]["title"] == "Budget talk with Acme"

        seen = await admin.ok("get", f"/workspace/summary?user_id={owner['id']}")

        [slot] = seen["upcoming_meetings"]["items"]
        assert set(slot) == BUSY_KEYS
        assert slot["kind"] == "meeting"
        assert slot["id"] == secret["id"]
        assert slot["title"] == "Busy"
        assert slot["start"] == own_view["upcoming_meetings"]["items"][0]["start"]
        assert slot["end"] == own_view["upcoming_meetings"]["items"][0]["end"]
        assert slot["busy"] is True
        for item in seen["insights"]["meetings"]["items"]:
            assert set(item) == BUSY_KEYS
        for item in seen["schedule_today"]:
            if item["kind"] == "meeting":
                assert set(item) == BUSY_KEYS | {"overlaps"} and item["title"] == "Busy"
        assert "secret" not in str(seen) and "Acme" not in str(seen)
        # The feed is never another user's (PERM-6).
        assert seen["feed_preview"] is None

    async def test_only_a_super_admin_views_another_users_workspace_perm_4(
        self, admin, make_user
    ) -> None:
        owner, _ = await seated(make_user)
        _, other = await seated(make_user)
        for path in ("/workspace/summary", "/workspace/schedule", "/workspace/leads"):
            refused = await other.get(f"{path}?user_id={owner['id']}")
            assert refused.status_code == 403, path
            assert refused.json()["type"] == "/problems/forbidden"
            assert (await admin.get(f"{path}?user_id={owner['id']}")).status_code == 200
        missing = await admin.get("/workspace/summary?user_id=2147483647")
        assert missing.status_code == 404


class TestSchedule:
    async def test_overlaps_flag_tasks_in_a_busy_block_and_intersecting_meetings_ws_9(
        self, make_user
    ) -> None:
        _, rep = await seated(make_user, time_zone="Europe/Helsinki")
        day = date(2026, 6, 10)

        def local(hour: int, minute: int = 0) -> datetime:
            return datetime(day.year, day.month, day.day, hour, minute, tzinfo=HELSINKI)

        away = await meeting(rep, local(8), local(12), kind="busy", title="Dentist")
        clash = await meeting(rep, local(11), local(13), title="Demo")
        next_one = await meeting(rep, local(13), local(14), title="Right after")
        inside = await task(rep, "Call during the dentist", local(9))
        free = await task(rep, "Call when free", local(15))
        # The evening before and the morning after are other days.
        await task(rep, "Yesterday", local(0) - timedelta(minutes=1))
        await task(rep, "Tomorrow", local(0) + timedelta(days=1))

        found = await rep.ok("get", f"/workspace/schedule?range=day&date={day}")

        assert found["range"] == "day"
        assert found["start"] == "2026-06-10T00:00:00+03:00"
        assert found["end"] == "2026-06-11T00:00:00+03:00"
        items = {(i["kind"], i["id"]): i for i in found["items"]}
        assert list(items) == [
            ("meeting", away["id"]),
            ("task", inside["id"]),
            ("meeting", clash["id"]),
            ("meeting", next_one["id"]),
            ("task", free["id"]),
        ]

        def overlaps(kind: str, item_id: int) -> list[tuple[str, int]]:
            return [(o["kind"], o["id"]) for o in items[(kind, item_id)]["overlaps"]]

        assert overlaps("meeting", away["id"]) == [("meeting", clash["id"]), ("task", inside["id"])]
        assert overlaps("task", inside["id"]) == [("meeting", away["id"])]
        assert overlaps("meeting", clash["id"]) == [("meeting", away["id"])]
        assert overlaps("meeting", next_one["id"]) == []
        assert overlaps("task", free["id"]) == []
        busy = items[("meeting", away["id"])]
        assert busy["busy"] is True and busy["title"] == "Dentist"
        task_item = items[("task", inside["id"])]
        assert task_item["start"] == task_item["start"] and task_item["end"] is None
        assert found["tasks_due"]["count"] == 2
        assert ids(found["tasks_due"]["items"]) == [inside["id"], free["id"]]

    async def test_a_week_across_the_dst_change_runs_monday_to_sunday_local_ws_9(
        self, make_user
    ) -> None:
        _, rep = await seated(make_user, time_zone="Europe/Helsinki")
        # Helsinki moves its clocks forward on Sunday 29 March 2026.
        first = await task(rep, "Monday morning", datetime(2026, 3, 23, 0, 10, tzinfo=HELSINKI))
        last = await task(rep, "Sunday night", datetime(2026, 3, 29, 23, 30, tzinfo=HELSINKI))
        await task(rep, "Sunday before", datetime(2026, 3, 22, 23, 50, tzinfo=HELSINKI))
        await task(rep, "Monday after", datetime(2026, 3, 30, 0, 30, tzinfo=HELSINKI))
        spanning = await meeting(
            rep,
            datetime(2026, 3, 20, 9, tzinfo=HELSINKI),
            datetime(2026, 3, 23, 9, tzinfo=HELSINKI),
            kind="busy",
        )

        found = await rep.ok("get", "/workspace/schedule?range=week&date=2026-03-26")

        assert found["start"] == "2026-03-23T00:00:00+02:00"
        assert found["end"] == "2026-03-30T00:00:00+03:00"
        assert [(i["kind"], i["id"]) for i in found["items"]] == [
            ("meeting", spanning["id"]),
            ("task", first["id"]),
            ("task", last["id"]),
        ]
        assert found["items"][0]["overlaps"] == [{"kind": "task", "id": first["id"]}]
        assert found["tasks_due"]["count"] == 2

    async def test_a_month_view_is_the_calendar_month_in_the_users_zone_ws_9(
        self, make_user
    ) -> None:
        _, rep = await seated(make_user, time_zone="America/New_York")
        zone = ZoneInfo("America/New_York")
        inside = [
            await task(rep, "First", datetime(2026, 2, 1, 0, 0, tzinfo=zone)),
            await task(rep, "Last", datetime(2026, 2, 28, 23, 59, tzinfo=zone)),
        ]
        # 1 March 03:00 UTC is still February in New York; 1 March 00:00 there is not.
        utc_march = await task(rep, "UTC March", datetime(2026, 3, 1, 3, tzinfo=UTC))
        await task(rep, "March", datetime(2026, 3, 1, 0, 0, tzinfo=zone))
        await task(rep, "January", datetime(2026, 1, 31, 23, 59, tzinfo=zone))

        found = await rep.ok("get", "/workspace/schedule?range=month&date=2026-02-14")

        assert found["start"] == "2026-02-01T00:00:00-05:00"
        assert found["end"] == "2026-03-01T00:00:00-05:00"
        # By due time: 22:00 on 28 February in New York comes before 23:59.
        assert ids(found["items"]) == [inside[0]["id"], utc_march["id"], inside[1]["id"]]
        assert found["tasks_due"]["count"] == 3

    async def test_contacts_with_meetings_today_each_once_by_first_meeting_ws_10(
        self, admin, make_user, session_factory
    ) -> None:
        rep_user, rep = await seated(make_user, time_zone="Europe/Helsinki")
        now = datetime(2026, 6, 10, 7, tzinfo=HELSINKI)
        ann = await contact(admin, first_name="Ann")
        bob = await contact(admin, first_name="Bob")
        cy = await contact(admin, first_name="Cy")
        hour = timedelta(hours=1)
        await meeting(rep, now + 5 * hour, now + 6 * hour, contact_ids=[ann["id"]])
        await meeting(rep, now - 4 * hour, now - 3 * hour, contact_ids=[bob["id"], ann["id"]])
        await meeting(rep, now + 24 * hour, now + 25 * hour, contact_ids=[cy["id"]])

        async with session_factory() as session:
            found = await schedule.schedule(
                session,
                await user_row(session_factory, rep_user["id"]),
                ScheduleRange.WEEK,
                now=now,
            )

        # Whatever the range, today's: Ann and Bob met first at 03:00, Cy is tomorrow.
        assert [(c.id, c.display_name) for c in found.contacts_with_meetings_today] == [
            (ann["id"], ann["first_name"] + " " + ann["last_name"]),
            (bob["id"], bob["first_name"] + " " + bob["last_name"]),
        ]

    async def test_another_users_schedule_shows_slots_and_no_contacts_perm_5(
        self, admin, make_user
    ) -> None:
        owner, rep = await seated(make_user)
        jo = await contact(admin)
        start = datetime.now(UTC).replace(microsecond=0)
        made = await meeting(
            rep,
            start,
            start + timedelta(minutes=1),
            title="Secret",
            meeting_url="https://meet.example.com/x",
            contact_ids=[jo["id"]],
        )
        seen = await admin.ok("get", f"/workspace/schedule?user_id={owner['id']}&range=week")
        [slot] = [i for i in seen["items"] if i["kind"] == "meeting"]
        assert set(slot) == BUSY_KEYS | {"overlaps"}
        assert (slot["id"], slot["title"], slot["busy"]) == (made["id"], "Busy", True)
        assert seen["contacts_with_meetings_today"] == []

    async def test_a_bad_range_or_date_names_the_parameter(self, make_user) -> None:
        _, rep = await seated(make_user)
        for query, field in (("range=year", "range"), ("date=2026-02-30", "date")):
            response = await rep.get(f"/workspace/schedule?{query}")
            assert response.status_code == 422
            assert response.json()["errors"][0]["field"] == field


async def post_activity(admin: Api, user_id: int, contact_id: int, kind: str, at: datetime) -> int:
    body: dict[str, Any] = {
        "event_id": f"feed-{uuid.uuid4().hex}",
        "type": kind,
        "occurred_at": iso(at),
        "user_id": user_id,
        "contact_id": contact_id,
    }
    if kind == "call":
        body["call"] = {"status": "completed", "outcome": "connected"}
    posted = await admin.ok("post", "/activities", body, status=202)
    return int(posted["id"])


class TestFeed:
    @pytest.fixture
    async def feed_world(self, admin, make_user) -> dict[str, Any]:
        """A rep's year: three contacts with activity, one only with activity over a year old,
        another rep's activity, a target account, a sequence enrollment."""
        rep_user, rep = await seated(make_user)
        other_user, _ = await seated(make_user)
        now = datetime.now(UTC)
        target = await admin.ok(
            "post",
            "/companies",
            {"name": f"Acme {uuid.uuid4().hex[:6]}", "is_target_account": True},
            status=201,
        )
        a = await contact(admin, company_id=target["id"])
        b = await contact(admin)
        c = await contact(admin)
        d = await contact(admin)
        sequence = await admin.ok(
            "post", "/sequences", {"name": f"Seq {uuid.uuid4().hex[:8]}"}, status=201
        )
        await admin.ok(
            "post",
            f"/sequences/{sequence['id']}/enrollments",
            {"contact_id": c["id"], "user_id": rep_user["id"]},
            status=201,
        )
        day = timedelta(days=1)
        uid = rep_user["id"]
        posted = {
            "a_email": await post_activity(admin, uid, a["id"], "email_sent", now - 3 * day),
            "a_call": await post_activity(admin, uid, a["id"], "call", now - day),
            "b_note": await post_activity(admin, uid, b["id"], "note", now - 2 * day),
            "b_old": await post_activity(admin, uid, b["id"], "note", now - 400 * day),
            "c_reply": await post_activity(
                admin, uid, c["id"], "email_reply", now - timedelta(hours=5)
            ),
            "d_old": await post_activity(admin, uid, d["id"], "email_sent", now - 366 * day),
            "others": await post_activity(
                admin, other_user["id"], b["id"], "note", now - timedelta(hours=1)
            ),
        }
        return {
            "rep": rep,
            "rep_id": uid,
            "contacts": {"a": a, "b": b, "c": c, "d": d},
            "sequence_id": sequence["id"],
            "posted": posted,
        }

    async def test_the_past_years_activity_grouped_by_contact_newest_first_ws_13(
        self, feed_world
    ) -> None:
        rep, c, posted = feed_world["rep"], feed_world["contacts"], feed_world["posted"]

        feed = await rep.ok("get", "/workspace/feed")

        groups = feed["groups"]
        assert [g["contact"]["id"] for g in groups] == [c["c"]["id"], c["a"]["id"], c["b"]["id"]]
        by_contact = {g["contact"]["id"]: g for g in groups}
        a_group = by_contact[c["a"]["id"]]
        assert a_group["contact"]["is_target_account"] is True
        assert a_group["contact"]["company_id"] == c["a"]["company_id"]
        assert by_contact[c["b"]["id"]]["contact"]["is_target_account"] is False
        assert [i["activity_id"] for i in a_group["items"]] == [
            posted["a_call"],
            posted["a_email"],
        ]
        assert a_group["items"][0]["summary"] == "Call: connected"
        assert a_group["items"][0]["type"] == "call"
        # Over a year old, or logged by someone else: not in the caller's feed.
        assert [i["activity_id"] for i in by_contact[c["b"]["id"]]["items"]] == [posted["b_note"]]
        assert feed["next_cursor"] is None

    async def test_filters_by_type_and_sequence_enrollment_ws_13(self, feed_world) -> None:
        rep, c = feed_world["rep"], feed_world["contacts"]
        sequence_id = feed_world["sequence_id"]

        async def contacts(query: str) -> list[int]:
            feed = await rep.ok("get", f"/workspace/feed?{query}")
            return [g["contact"]["id"] for g in feed["groups"]]

        assert await contacts("type=call") == [c["a"]["id"]]
        assert await contacts("type=note") == [c["b"]["id"]]
        assert await contacts("enrolled=true") == [c["c"]["id"]]
        assert await contacts(f"sequence_id={sequence_id}") == [c["c"]["id"]]
        assert await contacts("enrolled=false") == [c["a"]["id"], c["b"]["id"]]
        assert await contacts(f"sequence_id={sequence_id}&enrolled=false") == [
            c["a"]["id"],
            c["b"]["id"],
        ]
        unknown = await rep.get("/workspace/feed?sequence_id=2147483647")
        assert unknown.status_code == 422
        assert unknown.json()["errors"][0]["field"] == "sequence_id"

    async def test_pages_of_groups_follow_one_another(self, feed_world) -> None:
        rep, c = feed_world["rep"], feed_world["contacts"]
        first = await rep.ok("get", "/workspace/feed?limit=2")
        second = await rep.ok("get", f"/workspace/feed?limit=2&cursor={first['next_cursor']}")
        assert [g["contact"]["id"] for g in first["groups"]] == [c["c"]["id"], c["a"]["id"]]
        assert [g["contact"]["id"] for g in second["groups"]] == [c["b"]["id"]]
        assert second["next_cursor"] is None
        bad = await rep.get("/workspace/feed?cursor=nonsense")
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"

    async def test_paging_through_many_groups_meets_each_contact_once_in_order_ws_13(
        self, admin, make_user
    ) -> None:
        rep_user, rep = await seated(make_user)
        now = datetime.now(UTC).replace(microsecond=0)
        people = [await contact(admin) for _ in range(7)]
        # Interleaved activity, and two contacts whose newest activity is at the same instant:
        # the later activity (the higher id) then comes first.
        for hours, who in ((1, 0), (2, 1), (2, 2), (3, 0), (4, 3), (5, 1), (6, 4), (7, 5)):
            await post_activity(
                admin, rep_user["id"], people[who]["id"], "note", now - timedelta(hours=hours)
            )
        await post_activity(admin, rep_user["id"], people[6]["id"], "note", now - 400 * DAYS)
        whole = await rep.ok("get", "/workspace/feed?limit=100")
        expected = [people[i]["id"] for i in (0, 2, 1, 3, 4, 5)]
        assert [g["contact"]["id"] for g in whole["groups"]] == expected

        seen: list[int] = []
        cursor = None
        while True:
            query = "/workspace/feed?limit=2" + (f"&cursor={cursor}" if cursor else "")
            page = await rep.ok("get", query)
            seen += [g["contact"]["id"] for g in page["groups"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == expected
        assert [len(g["items"]) for g in whole["groups"]] == [2, 1, 2, 1, 1, 1]

    async def test_the_feed_is_always_the_callers_own_perm_6(self, admin, feed_world) -> None:
        rep, rep_id = feed_world["rep"], feed_world["rep_id"]
        for api in (rep, admin):
            refused = await api.get("/workspace/feed?user_id=1")
            assert refused.status_code == 403, refused.text
        assert (await admin.get(f"/workspace/feed?user_id={rep_id}")).status_code == 403
        assert (await rep.get(f"/workspace/feed?user_id={rep_id}")).status_code == 200


class TestLeadsBoard:
    async def test_the_users_leads_stage_by_stage_ws_8(
        self, make_user, make_lead, make_pipeline
    ) -> None:
        rep_user, rep = await seated(make_user)
        other_user, _ = await seated(make_user)
        pipeline = await make_pipeline()
        new, working = pipeline["stages"][0]["id"], pipeline["stages"][1]["id"]

        async def lead(stage_id: int, owner_id: int) -> int:
            made = await make_lead(pipeline_id=pipeline["id"], stage_id=stage_id, owner_id=owner_id)
            return int(made["id"])

        fresh = [await lead(new, rep_user["id"]) for _ in range(3)]
        moving = await lead(working, rep_user["id"])
        await lead(new, other_user["id"])

        board = await rep.ok("get", f"/workspace/leads?pipeline_id={pipeline['id']}")

        assert board["pipeline"]["id"] == pipeline["id"]
        assert [s["id"] for s in board["stages"]] == [s["id"] for s in pipeline["stages"]]
        assert [s["count"] for s in board["stages"]] == [3, 1, 0, 0, 0]
        assert [lead["id"] for lead in board["stages"][0]["leads"]] == list(reversed(fresh))
        assert [lead["id"] for lead in board["stages"][1]["leads"]] == [moving]
        assert board["stages"][0]["kind"] == "open" and board["stages"][0]["label"] == "New"

        one = await rep.ok(
            "get", f"/workspace/leads?pipeline_id={pipeline['id']}&stage_id={working}"
        )
        assert [(s["id"], s["count"]) for s in one["stages"]] == [(working, 1)]

    async def test_the_default_pipeline_unless_named_and_bad_names_are_422_ws_8(
        self, make_user, make_pipeline
    ) -> None:
        _, rep = await seated(make_user)
        board = await rep.ok("get", "/workspace/leads")
        assert board["pipeline"]["is_default"] is True
        deals = await make_pipeline("deal")
        leads = await make_pipeline()
        for query, field in (
            (f"pipeline_id={deals['id']}", "pipeline_id"),
            (f"pipeline_id={leads['id']}&stage_id={deals['stages'][0]['id']}", "stage_id"),
        ):
            response = await rep.get(f"/workspace/leads?{query}")
            assert response.status_code == 422
            assert response.json()["errors"][0]["field"] == field


# Every workspace endpoint, as (method, path, body): a legacy seat or none is refused on all.
WORKSPACE_ENDPOINTS = [
    ("get", "/workspace/summary", None),
    ("get", "/workspace/schedule?range=month", None),
    ("get", "/workspace/feed", None),
    ("get", "/workspace/leads", None),
    ("get", "/tasks?view=today", None),
    ("post", "/tasks", {"title": "Call"}),
    ("get", "/tasks/{task_id}?view=today", None),
    ("patch", "/tasks/{task_id}", {"priority": "high"}),
    ("post", "/tasks/{task_id}/complete", None),
    ("post", "/tasks:bulk", {"action": "delete", "task_ids": ["{task_id}"]}),
]


class TestSeats:
    @pytest.mark.parametrize("seat", ["legacy", None])
    @pytest.mark.parametrize(("method", "path", "body"), WORKSPACE_ENDPOINTS)
    async def test_a_legacy_seat_or_none_is_refused_on_every_workspace_endpoint_perm_3(
        self, make_user, method: str, path: str, body: Any, seat: str | None
    ) -> None:
        _, owner = await seated(make_user)
        made = await task(owner, "Theirs", None)
        _, refused = await make_user("sales_user", seat=seat)
        url = path.format(task_id=made["id"])
        if body is not None and "task_ids" in body:
            body = {**body, "task_ids": [made["id"]]}
        response = (
            await getattr(refused, method)(url, body) if method != "get" else await refused.get(url)
        )
        assert response.status_code == 403, response.text
        assert response.json()["type"] == "/problems/seat-required"
        # Nothing was done on the way.
        assert (await owner.get(f"/tasks/{made['id']}")).json()["priority"] == "none"


@pytest.fixture
async def switched_off(admin: Api) -> AsyncIterator[None]:
    await admin.ok("put", "/settings/workspace", {"enabled": False})
    try:
        yield
    finally:
        await admin.ok("put", "/settings/workspace", {"enabled": True})


async def test_off_the_workspace_views_answer_404_perm_9(make_user, switched_off) -> None:
    _, rep = await seated(make_user)
    for method, path, body in WORKSPACE_ENDPOINTS:
        url = path.format(task_id=1)
        response = await getattr(rep, method)(url, body) if method != "get" else await rep.get(url)
        assert response.status_code == 404, (path, response.text)
