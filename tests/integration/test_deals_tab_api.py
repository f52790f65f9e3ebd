"""The deals tab through HTTP: the caller's open deals by view, quick and advanced filters over
the property catalogue, saved columns and the overview (DEAL-1 to DEAL-5), with the seat and
visibility rules (PERM-3, PERM-7, PERM-9)."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from db.engine import SessionFactory
from tests.stack import Api

STAGES = [
    {"label": "Qualify", "kind": "open"},
    {"label": "Proposal", "kind": "open"},
    {"label": "Won", "kind": "won"},
    {"label": "Lost", "kind": "lost"},
]


def at(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def sql(session_factory: SessionFactory, statement: str, **params: Any) -> None:
    async with session_factory() as session, session.begin():
        await session.execute(text(statement), params)


@pytest.fixture
async def pipeline(make_pipeline) -> dict[str, Any]:
    """A deal pipeline of its own, so its stage history and norms are this test's alone."""
    made: dict[str, Any] = await make_pipeline("deal", STAGES)
    made["ids"] = {s["label"]: s["id"] for s in made["stages"]}
    return made


async def make_deal(api: Api, pipeline: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = {"name": f"Deal {uuid.uuid4().hex[:6]}", "pipeline_id": pipeline["id"], **fields}
    deal: dict[str, Any] = await api.ok("post", "/deals", body, status=201)
    return deal


async def listed(api: Api, path: str = "/deals", **params: Any) -> list[int]:
    response = await api.get(path, **params)
    assert response.status_code == 200, response.text
    return [d["id"] for d in response.json()["items"]]


async def searched(api: Api, body: dict[str, Any]) -> list[int]:
    response = await api.post("/deals:search", body)
    assert response.status_code == 200, response.text
    return [d["id"] for d in response.json()["items"]]


class TestList:
    async def test_the_tab_lists_the_callers_open_deals_deal_1(self, make_user, pipeline) -> None:
        _me, rep = await make_user("sales_user", seat="current")
        _, other = await make_user("sales_user", seat="current")
        ids = pipeline["ids"]
        first = await make_deal(rep, pipeline)
        second = await make_deal(rep, pipeline, stage_id=ids["Proposal"])
        await make_deal(rep, pipeline, stage_id=ids["Won"])
        await make_deal(rep, pipeline, stage_id=ids["Lost"])
        await make_deal(other, pipeline)
        assert await listed(rep) == [first["id"], second["id"]]
        page = (await rep.get("/deals")).json()
        assert page["view"] == "all_open" and page["items"][1]["stage_label"] == "Proposal"

    async def test_another_owners_deals_need_deal_visibility_all_perm_7(
        self, admin, make_user, pipeline
    ) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        me, colleague = await make_user("sales_user", seat="current")
        deal = await make_deal(rep, pipeline)
        assert await listed(colleague, owner_id=owner["id"]) == [deal["id"]]
        await admin.ok("patch", f"/users/{me['id']}", {"permissions": {"deals": "owned"}})
        refused = await colleague.get("/deals", owner_id=owner["id"])
        assert refused.status_code == 403, refused.text
        assert (await colleague.get(f"/deals/{deal['id']}")).status_code == 404
        assert (await colleague.patch(f"/deals/{deal['id']}", {"name": "x"})).status_code == 404
        assert (await colleague.get(f"/deals/{deal['id']}/overview")).status_code == 404
        assert (
            await searched(colleague, {"filters": [{"property": "owner_id", "op": "is_set"}]}) == []
        )

    async def test_a_legacy_seat_or_none_is_refused_perm_3(self, make_user) -> None:
        _, legacy = await make_user("sales_user", seat="legacy")
        _, seatless = await make_user("admin")
        for api in (legacy, seatless):
            for response in (
                await api.get("/deals"),
                await api.post("/deals:search", {}),
                await api.get("/users/me/deal-columns"),
            ):
                assert response.status_code == 403, response.text
                assert response.json()["type"] == "/problems/seat-required"

    async def test_a_super_admin_sees_a_reps_deals_without_a_seat_perm_4(
        self, make_user, pipeline
    ) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        _, boss = await make_user("super_admin")
        deal = await make_deal(rep, pipeline)
        assert await listed(boss, owner_id=owner["id"]) == [deal["id"]]
        own = await boss.get("/deals")
        assert own.status_code == 403 and own.json()["type"] == "/problems/seat-required"

    async def test_off_the_tab_answers_404_perm_9(self, admin, make_user) -> None:
        _, rep = await make_user("sales_user", seat="current")
        await admin.ok("put", "/settings/workspace", {"enabled": False})
        try:
            assert (await rep.get("/deals")).status_code == 404
            assert (await rep.post("/deals:search", {})).status_code == 404
        finally:
            await admin.ok("put", "/settings/workspace", {"enabled": True})

    async def test_an_unknown_query_parameter_or_view_is_a_422_naming_it(self, make_user) -> None:
        _, rep = await make_user("sales_user", seat="current")
        for params, field in (
            ({"stage": "3"}, "stage"),
            ({"view": "hot"}, "view"),
            ({"amount_min": "-1"}, "amount_min"),
            ({"close_date_from": "soon"}, "close_date_from"),
        ):
            response = await rep.get("/deals", **params)
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["field"] == field
        assert (await rep.get("/deals/1", expand="all")).status_code == 422

    async def test_quick_filters_deal_3(self, make_user, pipeline, make_pipeline) -> None:
        _, rep = await make_user("sales_user", seat="current")
        ids = pipeline["ids"]
        small = await make_deal(rep, pipeline, amount="500.00", close_date="2026-03-01")
        big = await make_deal(
            rep, pipeline, amount="90000.00", close_date="2026-05-01", stage_id=ids["Proposal"]
        )
        elsewhere = await make_deal(rep, await make_pipeline("deal"))
        assert await listed(rep, pipeline_id=pipeline["id"]) == [small["id"], big["id"]]
        assert await listed(rep, stage_id=ids["Proposal"]) == [big["id"]]
        assert await listed(rep, amount_min="1000", pipeline_id=pipeline["id"]) == [big["id"]]
        assert await listed(rep, amount_max="1000") == [small["id"]]
        window = {"close_date_from": "2026-02-01", "close_date_to": "2026-03-31"}
        assert await listed(rep, **window) == [small["id"]]
        assert elsewhere["id"] in await listed(rep)

    async def test_pages_follow_one_another(self, make_user, pipeline) -> None:
        _, rep = await make_user("sales_user", seat="current")
        made = [(await make_deal(rep, pipeline))["id"] for _ in range(3)]
        first = (await rep.get("/deals", limit=2)).json()
        second = (await rep.get("/deals", limit=2, cursor=first["next_cursor"])).json()
        assert [d["id"] for d in first["items"] + second["items"]] == made
        assert second.get("next_cursor") is None
        bad = await rep.get("/deals", cursor="nonsense")
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"


class TestViews:
    async def test_no_activity_scheduled_has_no_future_meeting_or_open_task_deal_2(
        self, make_user, pipeline
    ) -> None:
        _owner, rep = await make_user("sales_user", seat="current")
        quiet = await make_deal(rep, pipeline)
        met = await make_deal(rep, pipeline)
        tasked = await make_deal(rep, pipeline)
        done = await make_deal(rep, pipeline)
        canceled = await make_deal(rep, pipeline)
        past = await make_deal(rep, pipeline)

        async def meeting(deal: dict[str, Any], start: float, outcome: str = "scheduled") -> None:
            body = {
                "title": "Demo",
                "start": at(start),
                "end": at(start + 0.04),
                "deal_id": deal["id"],
                "outcome": outcome,
            }
            await rep.ok("post", "/meetings", body, status=201)

        await meeting(met, 2)
        await meeting(canceled, 2, "canceled")
        await meeting(past, -2, "completed")
        await rep.ok("post", "/tasks", {"title": "Send quote", "deal_id": tasked["id"]}, status=201)
        task = await rep.ok("post", "/tasks", {"title": "Call", "deal_id": done["id"]}, status=201)
        await rep.ok("post", f"/tasks/{task['id']}/complete")
        assert await listed(rep, view="no_activity_scheduled", pipeline_id=pipeline["id"]) == [
            quiet["id"],
            done["id"],
            canceled["id"],
            past["id"],
        ]

    async def test_only_meetings_the_caller_may_see_count_as_scheduled_perm_7(
        self, admin, make_user, pipeline
    ) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        _helper, colleague = await make_user("sales_user", seat="current")
        deal = await make_deal(rep, pipeline)
        body = {"title": "Demo", "start": at(1), "end": at(1.04), "deal_id": deal["id"]}
        await colleague.ok("post", "/meetings", body, status=201)
        query = {"view": "no_activity_scheduled", "pipeline_id": pipeline["id"]}
        assert await listed(rep, **query) == []
        await admin.ok("patch", f"/users/{owner['id']}", {"permissions": {"activities": "owned"}})
        assert await listed(rep, **query) == [deal["id"]]

    async def test_closing_this_month_is_the_callers_local_month(self, make_user, pipeline) -> None:
        zone = "Pacific/Kiritimati"
        _, rep = await make_user("sales_user", seat="current", time_zone=zone)
        today = datetime.now(ZoneInfo(zone)).date()
        first = today.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        inside = await make_deal(rep, pipeline, close_date=first.isoformat())
        last = await make_deal(
            rep, pipeline, close_date=(following - timedelta(days=1)).isoformat()
        )
        await make_deal(rep, pipeline, close_date=following.isoformat())
        await make_deal(rep, pipeline, close_date=(first - timedelta(days=1)).isoformat())
        await make_deal(rep, pipeline)
        assert await listed(rep, view="closing_this_month", pipeline_id=pipeline["id"]) == [
            inside["id"],
            last["id"],
        ]

    async def test_stalled_compares_time_in_stage_with_the_pipelines_history(
        self, make_user, pipeline, session_factory
    ) -> None:
        """Five deals left Qualify after 10 days each: the norm is 10 days. In Proposal no
        deal has left yet: the default of 30 days holds."""
        _, rep = await make_user("sales_user", seat="current")
        ids = pipeline["ids"]
        history = [await make_deal(rep, pipeline, stage_id=ids["Won"]) for _ in range(5)]
        for deal in history:
            await sql(
                session_factory,
                "INSERT INTO deal_stage_changes (deal_id, at, from_stage_id, to_stage_id,"
                " seconds_in_from_stage) VALUES (:deal, now() - interval '1 day', :q, :w, :s)",
                deal=deal["id"],
                q=ids["Qualify"],
                w=ids["Won"],
                s=10 * 86400.0,
            )
        days_in = {"q12": ("Qualify", 12), "q8": ("Qualify", 8), "p31": ("Proposal", 31)}
        days_in |= {"p20": ("Proposal", 20)}
        made = {}
        for key, (stage, days) in days_in.items():
            deal = await make_deal(rep, pipeline, stage_id=ids[stage])
            await sql(
                session_factory,
                "UPDATE deals SET stage_entered_at = now() - make_interval(days => :d)"
                " WHERE id = :id",
                d=days,
                id=deal["id"],
            )
            made[key] = deal["id"]
        stalled = await listed(rep, view="stalled", pipeline_id=pipeline["id"])
        assert stalled == [made["q12"], made["p31"]]
        overview = await rep.ok("get", f"/deals/{made['q12']}/overview")
        assert overview["stalled"] is True and overview["days_in_stage"] == 12
        assert overview["stage_norm_days"] == 10.0
        assert "median time of the 5 deals" in overview["stage_norm_basis"]

    async def test_a_stage_change_is_kept_and_restarts_the_time_in_stage(
        self, make_user, pipeline, session_factory
    ) -> None:
        _, rep = await make_user("sales_user", seat="current")
        ids = pipeline["ids"]
        deal = await make_deal(rep, pipeline)
        await sql(
            session_factory,
            "UPDATE deals SET stage_entered_at = now() - interval '3 days' WHERE id = :id",
            id=deal["id"],
        )
        await rep.ok("patch", f"/deals/{deal['id']}", {"stage_id": ids["Proposal"]})
        await rep.ok("patch", f"/deals/{deal['id']}", {"name": "Renamed"})
        async with session_factory() as session:
            rows = (
                await session.execute(
                    text(
                        "SELECT from_stage_id, to_stage_id, seconds_in_from_stage"
                        " FROM deal_stage_changes WHERE deal_id = :id"
                    ),
                    {"id": deal["id"]},
                )
            ).all()
        assert len(rows) == 1 and rows[0][:2] == (ids["Qualify"], ids["Proposal"])
        assert 3 * 86400 - 60 < rows[0][2] < 3 * 86400 + 60
        overview = await rep.ok("get", f"/deals/{deal['id']}/overview")
        assert overview["days_in_stage"] == 0 and overview["stage"]["label"] == "Proposal"


class TestSearch:
    async def test_filters_combine_over_the_catalogue_deal_3(self, make_user, pipeline) -> None:
        _, rep = await make_user("sales_user", seat="current")
        acme = await make_deal(rep, pipeline, name="ACME renewal", amount="12000.00")
        await make_deal(rep, pipeline, name="Acme pilot", amount="900.00")
        bare = await make_deal(rep, pipeline, name="Globex")
        mine = {"property": "pipeline_id", "op": "eq", "value": pipeline["id"]}
        found = await searched(
            rep,
            {
                "filters": [
                    mine,
                    {"property": "name", "op": "contains", "value": "acme"},
                    {"property": "amount", "op": "gte", "value": 10000},
                ]
            },
        )
        assert found == [acme["id"]]
        unset = {"property": "amount", "op": "not_set"}
        assert await searched(rep, {"filters": [mine, unset]}) == [bare["id"]]
        named = {"property": "name", "op": "in", "value": ["globex", "nobody"]}
        assert await searched(rep, {"filters": [mine, named]}) == [bare["id"]]

    async def test_sorting_pages_with_unset_values_last(self, make_user, pipeline) -> None:
        _, rep = await make_user("sales_user", seat="current")
        late = await make_deal(rep, pipeline, close_date="2026-09-01")
        none = await make_deal(rep, pipeline)
        soon = await make_deal(rep, pipeline, close_date="2026-07-01")
        also_late = await make_deal(rep, pipeline, close_date="2026-09-01")
        body = {
            "filters": [{"property": "pipeline_id", "op": "eq", "value": pipeline["id"]}],
            "sort": {"property": "close_date", "direction": "desc"},
            "limit": 1,
        }
        seen: list[int] = []
        while True:
            page = (await rep.post("/deals:search", body)).json()
            seen += [d["id"] for d in page["items"]]
            if not page.get("next_cursor"):
                break
            body["cursor"] = page["next_cursor"]
        assert seen == [also_late["id"], late["id"], soon["id"], none["id"]]
        other_sort = {**body, "sort": {"property": "amount", "direction": "desc"}}
        response = await rep.post("/deals:search", other_sort)
        assert response.status_code == 422 and response.json()["errors"][0]["rule"] == "sort"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"view": "hot"}, "view"),
            ({"filters": [{"property": "colour", "op": "eq", "value": 1}]}, "filters.0.property"),
            ({"filters": [{"property": "amount", "op": "like", "value": 1}]}, "filters.0.op"),
            ({"filters": [{"property": "amount", "op": "contains", "value": "1"}]}, "filters.0.op"),
            ({"filters": [{"property": "amount", "op": "gt", "value": "x"}]}, "filters.0.value"),
            ({"filters": [{"property": "owner_id", "op": "eq"}]}, "filters.0.value"),
            ({"sort": {"property": "next_steps"}}, "sort.property"),
            ({"colour": "red"}, "colour"),
        ],
    )
    async def test_an_unknown_view_property_or_operator_is_a_422_naming_it(
        self, make_user, body, field
    ) -> None:
        _, rep = await make_user("sales_user", seat="current")
        response = await rep.post("/deals:search", body)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field

    async def test_a_search_lists_the_callers_deals_unless_owners_are_named(
        self, make_user, pipeline
    ) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        me, colleague = await make_user("sales_user", seat="current")
        theirs = await make_deal(rep, pipeline)
        mine = await make_deal(colleague, pipeline)
        in_pipeline = {"property": "pipeline_id", "op": "eq", "value": pipeline["id"]}
        assert await searched(colleague, {"filters": [in_pipeline]}) == [mine["id"]]
        both = {"property": "owner_id", "op": "in", "value": [owner["id"], me["id"]]}
        assert await searched(colleague, {"filters": [in_pipeline, both]}) == [
            theirs["id"],
            mine["id"],
        ]


class TestColumns:
    async def test_columns_are_saved_in_order_and_returned_with_lists_deal_4(
        self, make_user
    ) -> None:
        _, rep = await make_user("sales_user", seat="current")
        defaults = await rep.ok("get", "/users/me/deal-columns")
        assert defaults == {"columns": ["name", "stage_id", "amount", "close_date", "owner_id"]}
        chosen = {"columns": ["close_date", "name", "stage_entered_at"]}
        assert await rep.ok("put", "/users/me/deal-columns", chosen) == chosen
        assert await rep.ok("get", "/users/me/deal-columns") == chosen
        assert (await rep.ok("get", "/deals"))["columns"] == chosen["columns"]
        assert (await rep.ok("post", "/deals:search", {}))["columns"] == chosen["columns"]

    async def test_an_unknown_or_repeated_column_is_refused(self, make_user) -> None:
        _, rep = await make_user("sales_user", seat="current")
        for columns, field in ((["name", "colour"], "columns.1"), (["name", "name"], "columns.1")):
            response = await rep.put("/users/me/deal-columns", {"columns": columns})
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["field"] == field
        assert (await rep.put("/users/me/deal-columns", {"columns": []})).status_code == 422


class TestOverview:
    async def test_the_overview_has_key_fields_activities_and_links_deal_5(
        self, admin, make_user, pipeline
    ) -> None:
        owner, rep = await make_user("sales_user", seat="current", name="Ana Rep")
        contact = await admin.ok(
            "post", "/contacts", {"first_name": "Jo", "email": "jo@acme.io"}, status=201
        )
        deal = await make_deal(
            rep, pipeline, contact_id=contact["id"], amount="5000.00", close_date="2026-12-01"
        )
        note = await admin.ok(
            "post",
            "/activities",
            {
                "event_id": uuid.uuid4().hex,
                "type": "note",
                "occurred_at": at(-1),
                "user_id": owner["id"],
                "deal_id": deal["id"],
                "note": {"body": "Asked for a security review."},
            },
        )
        task = await rep.ok(
            "post",
            "/tasks",
            {"title": "Send the review", "deal_id": deal["id"], "due_at": at(3)},
            status=201,
        )
        overview = await rep.ok("get", f"/deals/{deal['id']}/overview")
        assert overview["deal"]["amount"] == "5000.00" and overview["owner"]["name"] == "Ana Rep"
        assert overview["contacts"] == [{"id": contact["id"], "name": "Jo", "email": "jo@acme.io"}]
        assert overview["last_activity"]["activity_id"] == note["id"]
        assert overview["last_activity"]["summary"] == 'Note: "Asked for a security review."'
        assert overview["next_activity"]["kind"] == "task"
        assert overview["next_activity"]["id"] == task["id"]
        assert [s["label"] for s in overview["pipeline"]["stages"]] == [
            "Qualify",
            "Proposal",
            "Won",
            "Lost",
        ]
        links = {a["action"]: (a["method"], a["href"]) for a in overview["actions"]}
        assert links == {
            "update_stage": ("PATCH", f"/v1/deals/{deal['id']}"),
            "edit_close_date": ("PATCH", f"/v1/deals/{deal['id']}"),
            "send_email": ("POST", "/v1/activities"),
            "log_call": ("POST", "/v1/activities"),
            "schedule_meeting": ("POST", "/v1/meetings"),
        }

    async def test_the_links_work_stage_close_date_email_call_meeting_deal_5(
        self, make_user, pipeline
    ) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        deal = await make_deal(rep, pipeline, close_date="2026-12-01")
        overview = await rep.ok("get", f"/deals/{deal['id']}/overview")
        actions = {a["action"]: a for a in overview["actions"]}
        stage = pipeline["ids"]["Proposal"]
        moved = await rep.ok("patch", f"/deals/{deal['id']}", {"stage_id": stage})
        assert moved["stage_id"] == stage
        assert actions["edit_close_date"]["body"] == {"close_date": "2026-12-01"}
        await rep.ok("patch", f"/deals/{deal['id']}", {"close_date": "2027-01-15"})
        email = {
            **actions["send_email"]["body"],
            "event_id": uuid.uuid4().hex,
            "occurred_at": at(-0.02),
            "user_id": owner["id"],
            "email": {"subject": "Next steps", "body": "See you soon."},
        }
        sent = await rep.ok("post", "/activities", email, status=202)
        call = {
            **actions["log_call"]["body"],
            "event_id": uuid.uuid4().hex,
            "occurred_at": at(-0.01),
            "user_id": owner["id"],
        }
        logged = await rep.ok("post", "/activities", call, status=202)
        meeting = {**actions["schedule_meeting"]["body"], "start": at(2), "end": at(2.04)}
        booked = await rep.ok("post", "/meetings", meeting, status=201)
        after = await rep.ok("get", f"/deals/{deal['id']}/overview")
        assert after["deal"]["close_date"] == "2027-01-15" and after["stage"]["id"] == stage
        upcoming = after["next_activity"]
        assert (upcoming["kind"], upcoming["id"], upcoming["title"]) == (
            "meeting",
            booked["id"],
            deal["name"],
        )
        assert datetime.fromisoformat(upcoming["at"]) == datetime.fromisoformat(booked["start"])
        # Made by hand just now, the meeting is the newest engagement: newer than the two posts.
        assert after["last_activity"]["type"] == "meeting"
        assert after["last_activity"]["activity_id"] > max(sent["id"], logged["id"])
