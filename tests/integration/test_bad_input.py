"""Bad input through HTTP: each of these was a 500 once; now a 4xx problem naming the field
and the rule, with nothing written."""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from db.engine import SessionFactory
from db.models import User
from tests.stack import Api

TOO_BIG = 2**31  # one past PostgreSQL's integer


def rules(response: httpx.Response) -> dict[str, str]:
    """The problem's `errors` as {field: rule}, after checking it is a problem document."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"]: e["rule"] for e in response.json()["errors"]}


@pytest.fixture
async def contact(admin: Api) -> dict[str, Any]:
    created: dict[str, Any] = await admin.ok("post", "/contacts", {"first_name": "Jo"}, status=201)
    return created


@pytest.fixture
async def pipeline(admin: Api) -> dict[str, Any]:
    body = {
        "object": "lead",
        "label": f"Bad input {uuid.uuid4().hex[:8]}",
        "stages": [
            {"label": "New", "kind": "open"},
            {"label": "Won", "kind": "qualified"},
            {"label": "Lost", "kind": "disqualified"},
        ],
    }
    created: dict[str, Any] = await admin.ok("post", "/pipelines", body, status=201)
    return created


def chain_path(pipeline: dict[str, Any]) -> str:
    return f"/pipelines/{pipeline['id']}/stages/{pipeline['stages'][0]['id']}/chain"


class TestIdsBeyondTheColumn:
    async def test_a_path_id_out_of_range_is_not_found(self, admin) -> None:
        response = await admin.get(f"/leads/{TOO_BIG}")
        assert response.status_code == 404
        assert response.json()["type"] == "/problems/not-found"

    async def test_a_query_id_out_of_range_is_a_422(self, admin) -> None:
        assert rules(await admin.get("/leads", owner_id=TOO_BIG)) == {"owner_id": "less_than_equal"}

    async def test_an_activity_contact_id_out_of_range_is_a_422(self, admin) -> None:
        body = {
            "event_id": uuid.uuid4().hex,
            "type": "call",
            "occurred_at": "2026-11-23T10:15:00Z",
            "contact_id": TOO_BIG,
        }
        assert rules(await admin.post("/activities", body)) == {"contact_id": "less_than_equal"}

    async def test_a_dry_run_lead_id_out_of_range_is_a_422(self, admin, pipeline) -> None:
        response = await admin.post(f"{chain_path(pipeline)}:dry-run", {"lead_id": TOO_BIG})
        assert rules(response) == {"lead_id": "less_than_equal"}

    async def test_a_chain_task_assignee_of_2_to_the_40_is_a_422(self, admin, pipeline) -> None:
        task = {"type": "create_task", "config": {"title": "Call", "assignee_id": 2**40}}
        response = await admin.put(chain_path(pipeline), {"actions": [task]})
        assert rules(response) == {"actions.0.config.assignee_id": "less_than_equal"}
        assert (await admin.ok("get", chain_path(pipeline)))["version"] == 0


class TestText:
    async def test_a_nul_in_a_name_is_refused(self, admin) -> None:
        response = await admin.post("/contacts", {"first_name": "a\u0000b"})
        assert rules(response) == {"first_name": "no_nul"}

    async def test_a_line_break_in_a_name_is_refused(self, admin) -> None:
        # It would end up in an email header when a chain writes to the contact.
        response = await admin.post("/contacts", {"first_name": "Jo\r\nBcc: all@example.com"})
        assert rules(response) == {"first_name": "single_line"}

    async def test_a_nul_in_the_search_is_refused(self, admin) -> None:
        assert rules(await admin.get("/leads", q="a\u0000b")) == {"q": "no_nul"}

    async def test_a_nul_in_activity_details_is_refused(self, admin, contact) -> None:
        body = {
            "event_id": uuid.uuid4().hex,
            "type": "email_sent",
            "occurred_at": "2026-11-23T10:15:00Z",
            "contact_id": contact["id"],
            "email": {"thread_id": "t\u00001", "to": ["jo@example.com"]},
        }
        assert rules(await admin.post("/activities", body)) == {"email.thread_id": "no_nul"}

    async def test_an_overlong_email_recipient_is_refused(self, admin, contact) -> None:
        body = {
            "event_id": uuid.uuid4().hex,
            "type": "email_sent",
            "occurred_at": "2026-11-23T10:15:00Z",
            "contact_id": contact["id"],
            "email": {"to": ["x" * 400 + "@example.com"]},
        }
        assert rules(await admin.post("/activities", body)) == {"email.to.0": "string_too_long"}

    async def test_a_nul_anywhere_in_a_chain_config_is_refused(self, admin, pipeline) -> None:
        task = {"type": "create_task", "config": {"title": "Call", "notes": "a\u0000b"}}
        response = await admin.put(chain_path(pipeline), {"actions": [task]})
        assert rules(response) == {"actions.0": "no_nul"}
        assert "config.notes" in response.json()["detail"]

    async def test_percent_and_underscore_in_the_search_match_literally(
        self, admin, make_lead
    ) -> None:
        tag = uuid.uuid4().hex[:8]
        plain = await make_lead(name=f"Plain {tag}")
        percent = await make_lead(name=f"100% {tag}")
        found = await admin.ok("get", f"/leads?q=%25%20{tag}")
        assert [lead["id"] for lead in found["items"]] == [percent["id"]]
        # As a wildcard `_` would match the space in "Plain <tag>".
        assert plain["id"] and (await admin.ok("get", f"/leads?q=Plain_{tag}"))["items"] == []


class TestNullOnRequiredFields:
    async def test_a_null_task_type_is_refused(self, make_user) -> None:
        _, rep = await make_user("sales_user", seat="current")
        task = await rep.ok("post", "/tasks", {"title": "Call"}, status=201)
        assert rules(await rep.patch(f"/tasks/{task['id']}", {"type": None})) == {
            "type": "not_nullable"
        }
        assert (await rep.ok("get", f"/tasks/{task['id']}"))["type"] == "todo"

    async def test_a_null_company_name_is_refused(self, admin) -> None:
        company = await admin.ok("post", "/companies", {"name": "Acme"}, status=201)
        response = await admin.patch(f"/companies/{company['id']}", {"name": None})
        assert rules(response) == {"name": "not_nullable"}


class TestTimes:
    async def test_a_time_that_overflows_in_utc_is_refused(self, make_user) -> None:
        _, rep = await make_user("sales_user", seat="current")
        response = await rep.post(
            "/tasks", {"title": "Call", "due_at": "0001-01-01T00:00:00+14:00"}
        )
        assert rules(response) == {"due_at": "instant_range"}

    async def test_an_unknown_time_zone_is_refused(self, admin) -> None:
        body = {"email": f"{uuid.uuid4().hex[:10]}@example.com", "name": "Mars Rep"}
        for zone, rule in (("Mars/Olympus_Mons", "time_zone"), ("A" * 65, "string_too_long")):
            response = await admin.post("/users", {**body, "role": "sales_user", "time_zone": zone})
            assert rules(response) == {"time_zone": rule}

    async def test_task_views_of_a_user_with_a_stored_unknown_zone_read_as_utc(
        self, make_user, session_factory: SessionFactory
    ) -> None:
        user, rep = await make_user("sales_user", seat="current")
        async with session_factory() as session, session.begin():
            await session.execute(
                update(User).where(User.id == user["id"]).values(time_zone="Mars/Olympus_Mons")
            )
        response = await rep.get("/tasks", view="today")
        assert response.status_code == 200, response.text


class TestDurations:
    @pytest.mark.parametrize(
        ("action", "field"),
        [
            ({"type": "delay", "config": {"duration": "P999999999D"}}, "duration"),
            ({"type": "create_task", "config": {"title": "T", "due_in": "P999999999D"}}, "due_in"),
            ({"type": "create_deal", "config": {"close_in": "P999999999D"}}, "close_in"),
        ],
    )
    async def test_a_duration_beyond_its_bound_is_refused_at_save(
        self, admin, pipeline, action, field
    ) -> None:
        response = await admin.put(chain_path(pipeline), {"actions": [action]})
        assert rules(response) == {f"actions.0.config.{field}": "duration_range"}
