"""Meetings and calls as records: made from the activities services post (a calendar's
meeting id keys a meeting per owner), by hand, read in full (WS-11), and their outcomes set
later reaching the lead's workflow as activities of their own (WS-12, AUT-4)."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from db.models import Activity
from tests.integration.eventually import eventually
from tests.integration.test_activities_api import wait_until_applied


def at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def meeting_post(user_id: int | None, **meeting: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": f"cal-{uuid.uuid4().hex}",
        "type": "meeting",
        "occurred_at": at(0),
        "meeting": meeting,
    }
    if user_id is not None:
        body["user_id"] = user_id
    return body


async def stage_of(admin, lead_id: int) -> int:
    return int((await admin.ok("get", f"/leads/{lead_id}"))["stage_id"])


async def wait_for_stage(admin, lead_id: int, stage_id: int) -> int:
    return await eventually(lambda: stage_of(admin, lead_id), lambda s: s == stage_id)


class TestCalendarMeetings:
    async def test_a_meeting_activity_makes_a_meeting_with_everything_ws_11(
        self, admin, make_user, make_lead
    ) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        lead = await make_lead(owner_id=owner["id"])
        posted = await admin.ok(
            "post",
            "/activities",
            {
                **meeting_post(
                    owner["id"],
                    meeting_id="gcal-1",
                    title="Trial kick-off",
                    start=at(24),
                    end=at(25),
                    location="Room 4",
                    meeting_url="https://meet.example.com/abc-def",
                    attendees=[{"email": "jo@acme.io", "name": "Jo Lee"}],
                    notes="Bring the pricing sheet",
                ),
                "lead_id": lead["id"],
                "contact_id": lead["contact_id"],
            },
            status=202,
        )
        assert posted["meeting_id"] is not None
        meeting = await rep.ok("get", f"/meetings/{posted['meeting_id']}")
        assert meeting["owner_id"] == owner["id"]
        assert meeting["kind"] == "meeting" and meeting["title"] == "Trial kick-off"
        assert meeting["meeting_url"] == "https://meet.example.com/abc-def"
        assert meeting["location"] == "Room 4" and meeting["notes"] == "Bring the pricing sheet"
        assert meeting["attendees"] == [{"email": "jo@acme.io", "name": "Jo Lee"}]
        assert meeting["contact_ids"] == [lead["contact_id"]]
        assert meeting["lead_id"] == lead["id"] and meeting["outcome"] == "scheduled"
        assert meeting["calendar_meeting_id"] == "gcal-1"

    async def test_a_later_post_with_the_calendar_id_updates_only_what_it_gives(
        self, admin, make_user
    ) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        first = await admin.ok(
            "post",
            "/activities",
            meeting_post(
                owner["id"], meeting_id="gcal-2", title="Demo", start=at(2), end=at(3), notes="n"
            ),
        )
        moved = meeting_post(owner["id"], meeting_id="gcal-2", start=at(4), end=at(5))
        moved["occurred_at"] = at(0.1)
        second = await admin.ok("post", "/activities", moved)
        assert second["meeting_id"] == first["meeting_id"]
        meeting = await rep.ok("get", f"/meetings/{first['meeting_id']}")
        assert meeting["title"] == "Demo" and meeting["notes"] == "n"
        assert datetime.fromisoformat(meeting["start"]) == datetime.fromisoformat(
            moved["meeting"]["start"]
        )

    async def test_a_late_older_post_does_not_undo_a_newer_one(self, admin, make_user) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        newer = meeting_post(owner["id"], meeting_id="gcal-3", title="New title")
        newer["occurred_at"] = at(0)
        older = meeting_post(owner["id"], meeting_id="gcal-3", title="Old title")
        older["occurred_at"] = at(-1)
        made = await admin.ok("post", "/activities", newer)
        again = await admin.ok("post", "/activities", older)
        assert again["meeting_id"] == made["meeting_id"]
        assert (await rep.ok("get", f"/meetings/{made['meeting_id']}"))["title"] == "New title"

    async def test_one_calendar_meeting_in_two_calendars_is_two_records(
        self, admin, make_user
    ) -> None:
        ana, _ = await make_user("sales_user", seat="current")
        ben, _ = await make_user("sales_user", seat="current")
        a = await admin.ok("post", "/activities", meeting_post(ana["id"], meeting_id="gcal-4"))
        b = await admin.ok("post", "/activities", meeting_post(ben["id"], meeting_id="gcal-4"))
        assert a["meeting_id"] != b["meeting_id"]
        assert (await admin.ok("get", f"/meetings/{b['meeting_id']}"))["owner_id"] == ben["id"]

    async def test_a_calendar_meeting_of_nobody_is_still_one_record(self, admin) -> None:
        contact = await admin.ok("post", "/contacts", {"first_name": "Jo"}, status=201)
        key = f"gcal-{uuid.uuid4().hex}"
        first = {**meeting_post(None, meeting_id=key, title="A"), "contact_id": contact["id"]}
        second = {**meeting_post(None, meeting_id=key, title="B"), "contact_id": contact["id"]}
        second["occurred_at"] = at(0.1)
        a = await admin.ok("post", "/activities", first)
        b = await admin.ok("post", "/activities", second)
        assert a["meeting_id"] == b["meeting_id"]
        meeting = await admin.ok("get", f"/meetings/{a['meeting_id']}")
        assert meeting["owner_id"] is None and meeting["title"] == "B"

    async def test_without_a_calendar_id_each_post_is_its_own_meeting(
        self, admin, make_user
    ) -> None:
        owner, _ = await make_user("sales_user", seat="current")
        body = meeting_post(owner["id"], title="Coffee")
        a = await admin.ok("post", "/activities", body)
        repeat = await admin.ok("post", "/activities", body)
        b = await admin.ok("post", "/activities", meeting_post(owner["id"], title="Coffee"))
        assert repeat["meeting_id"] == a["meeting_id"] != b["meeting_id"]

    async def test_a_busy_block_comes_from_the_calendar_and_moves_no_lead(
        self, admin, make_user, make_lead, lead_stages, dev_server_env
    ) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        lead = await make_lead(owner_id=owner["id"])
        block = await admin.ok(
            "post",
            "/activities",
            meeting_post(owner["id"], meeting_id="ooo-1", kind="busy", start=at(0), end=at(72)),
        )
        meeting = await rep.ok("get", f"/meetings/{block['meeting_id']}")
        assert meeting["kind"] == "busy" and meeting["title"] == "Busy"
        assert meeting["outcome"] is None
        # Even named on a lead, a busy block is not outreach (AUT-3): delivered, applied, and
        # the lead stays where it was.
        on_lead = {**meeting_post(owner["id"], kind="busy"), "lead_id": lead["id"]}
        posted = await admin.ok("post", "/activities", on_lead)
        assert posted["delivered_lead_ids"] == [lead["id"]]
        assert on_lead["event_id"] in await wait_until_applied(
            dev_server_env, lead["id"], on_lead["event_id"]
        )
        assert await stage_of(admin, lead["id"]) == lead_stages["New"]

    async def test_a_busy_block_needs_its_user_and_a_meeting_needs_someone(self, admin) -> None:
        busy = meeting_post(None, kind="busy")
        busy["contact_id"] = 1
        response = await admin.post("/activities", busy)
        assert response.status_code == 422
        alone = await admin.post("/activities", meeting_post(None, title="Nobody's"))
        assert alone.status_code == 422

    async def test_a_meeting_ending_before_it_starts_is_refused_and_nothing_is_kept(
        self, admin, make_user, session_factory
    ) -> None:
        owner, _ = await make_user("sales_user", seat="current")
        body = meeting_post(owner["id"], meeting_id="gcal-5", start=at(2), end=at(1))
        response = await admin.post("/activities", body)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "meeting.end"
        ok = await admin.ok(
            "post",
            "/activities",
            meeting_post(owner["id"], meeting_id="gcal-6", start=at(2), end=at(3)),
        )
        # Only the end moves, to before the stored start: refused at the merge, nothing kept.
        late = meeting_post(owner["id"], meeting_id="gcal-6", end=at(1))
        late["occurred_at"] = at(0.1)
        refused = await admin.post("/activities", late)
        assert refused.status_code == 422
        assert refused.json()["errors"][0] == {
            "field": "meeting.end",
            "rule": "after_start",
            "message": "a meeting cannot end before it starts",
        }
        async with session_factory() as session:
            assert (
                await session.scalar(
                    select(Activity.id).where(Activity.event_id == late["event_id"])
                )
                is None
            )
        assert ok["meeting_id"]

    async def test_a_bad_link_or_attendee_names_the_field(self, admin, make_user) -> None:
        owner, _ = await make_user("sales_user", seat="current")
        for meeting, field in (
            ({"meeting_url": "javascript:alert(1)"}, "meeting.meeting_url"),
            ({"attendees": [{"email": "not an address"}]}, "meeting.attendees.0.email"),
            ({"meeting_id": "a\nb"}, "meeting.meeting_id"),
            ({"kind": "holiday"}, "meeting.kind"),
        ):
            response = await admin.post("/activities", meeting_post(owner["id"], **meeting))
            assert response.status_code == 422, meeting
            assert response.json()["errors"][0]["field"] == field

    async def test_leadpipes_own_event_ids_cannot_be_posted(self, admin, make_user) -> None:
        owner, _ = await make_user("sales_user", seat="current")
        body = meeting_post(owner["id"])
        body["event_id"] = "leadpipe/meeting-outcome-1-1"
        response = await admin.post("/activities", body)
        assert response.status_code == 422
        assert response.json()["errors"][0]["rule"] == "reserved_prefix"

    async def test_a_batch_keeps_good_meetings_and_reports_the_bad_one(
        self, admin, make_user
    ) -> None:
        owner, _ = await make_user("sales_user", seat="current")
        good = meeting_post(owner["id"], meeting_id="gcal-7")
        bad = meeting_post(owner["id"], meeting_id="gcal-8", start=at(2), end=at(1))
        answer = await admin.ok("post", "/activities:batch", {"activities": [good, bad]})
        assert [r["status"] for r in answer["results"]] == [202, 422]
        assert answer["results"][0]["activity"]["meeting_id"] is not None


class TestMeetingsByHand:
    async def test_a_meeting_made_by_hand_is_outreach_to_the_lead_aut_3(
        self, make_user, make_lead, admin, lead_stages
    ) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        lead = await make_lead(owner_id=owner["id"])
        made = await rep.ok(
            "post",
            "/meetings",
            {
                "title": "Discovery",
                "start": at(24),
                "end": at(24.5),
                "meeting_url": "https://meet.example.com/q",
                "contact_ids": [lead["contact_id"]],
                "lead_id": lead["id"],
            },
            status=201,
        )
        assert made["owner_id"] == owner["id"] and made["contact_ids"] == [lead["contact_id"]]
        assert (
            await wait_for_stage(admin, lead["id"], lead_stages["Attempting"])
            == (lead_stages["Attempting"])
        )
        history = await admin.ok("get", f"/leads/{lead['id']}/history")
        assert history[-1]["event_id"] == f"leadpipe/meeting-{made['id']}"
        timeline = await rep.ok("get", f"/activities?lead_id={lead['id']}")
        assert timeline["items"][0]["meeting_id"] == made["id"]

    async def test_only_admins_put_a_meeting_in_another_users_calendar(
        self, make_user, admin
    ) -> None:
        owner, _ = await make_user("sales_user", seat="current")
        _, other = await make_user("sales_user", seat="current")
        body = {"title": "x", "start": at(1), "end": at(2), "owner_id": owner["id"]}
        assert (await other.post("/meetings", body)).status_code == 403
        made = await admin.ok("post", "/meetings", body, status=201)
        assert made["owner_id"] == owner["id"]

    async def test_unknown_contacts_and_backwards_times_name_the_field(self, make_user) -> None:
        _, rep = await make_user("sales_user", seat="current")
        unknown = await rep.post(
            "/meetings", {"title": "x", "start": at(1), "end": at(2), "contact_ids": [2**31 - 1]}
        )
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "contact_ids"
        backwards = await rep.post("/meetings", {"title": "x", "start": at(2), "end": at(1)})
        assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "end"


class TestAccess:
    async def test_a_meeting_is_its_owners_and_the_admins_only(self, make_user, admin) -> None:
        _, rep = await make_user("sales_user", seat="current")
        _, other = await make_user("sales_user", seat="current")
        _, plain_admin = await make_user("admin")
        made = await rep.ok("post", "/meetings", {"title": "x", "start": at(1), "end": at(2)})
        assert (await other.get(f"/meetings/{made['id']}")).status_code == 404
        outcome = await other.post(f"/meetings/{made['id']}/outcome", {"outcome": "completed"})
        assert outcome.status_code == 404
        assert (await plain_admin.get(f"/meetings/{made['id']}")).status_code == 200
        assert (await admin.get(f"/meetings/{made['id']}")).status_code == 200


class TestOutcomes:
    async def test_an_outcome_reaches_the_workflow_as_its_own_activity_ws_12(
        self, admin, make_user, make_lead, session_factory
    ) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        lead = await make_lead(owner_id=owner["id"])
        made = await admin.ok(
            "post", "/activities", {**meeting_post(owner["id"]), "lead_id": lead["id"]}
        )
        meeting_id = made["meeting_id"]
        done = await rep.ok("post", f"/meetings/{meeting_id}/outcome", {"outcome": "no_show"})
        assert done["outcome"] == "no_show"
        again = await rep.ok("post", f"/meetings/{meeting_id}/outcome", {"outcome": "completed"})
        assert again["outcome"] == "completed"
        async with session_factory() as session:
            logged = (
                await session.scalars(
                    select(Activity)
                    .where(Activity.event_id.like(f"leadpipe/meeting-outcome-{meeting_id}-%"))
                    .order_by(Activity.id)
                )
            ).all()
        assert [a.event_id for a in logged] == [
            f"leadpipe/meeting-outcome-{meeting_id}-1",
            f"leadpipe/meeting-outcome-{meeting_id}-2",
        ]
        assert [a.details["meeting"]["outcome"] for a in logged] == ["no_show", "completed"]
        assert all(a.meeting_id == meeting_id and a.user_id == owner["id"] for a in logged)
        assert all(a.delivered_lead_ids == [lead["id"]] for a in logged)

    async def test_an_outcome_of_a_meeting_the_contact_booked_connects_the_lead_aut_4(
        self, admin, make_user, make_lead, lead_stages
    ) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        lead = await make_lead(owner_id=owner["id"])
        # Booked while the lead was New: the connect rule (from Attempting) does not apply.
        booked = meeting_post(owner["id"], meeting_id="gcal-9", booked_by_contact=True)
        booked["occurred_at"] = at(-1)
        made = await admin.ok("post", "/activities", {**booked, "lead_id": lead["id"]})
        await admin.ok(
            "post", f"/leads/{lead['id']}/stage", {"stage_id": lead_stages["Attempting"]}
        )
        # Its outcome, logged now, tells the workflow again that the contact booked it.
        await rep.ok("post", f"/meetings/{made['meeting_id']}/outcome", {"outcome": "completed"})
        assert (
            await wait_for_stage(admin, lead["id"], lead_stages["Connected"])
            == (lead_stages["Connected"])
        )
        history = await admin.ok("get", f"/leads/{lead['id']}/history")
        assert history[-1]["cause"] == "automation:advance_on_connect"
        assert history[-1]["event_id"] == f"leadpipe/meeting-outcome-{made['meeting_id']}-1"

    async def test_setting_the_outcome_it_has_posts_nothing(
        self, make_user, session_factory
    ) -> None:
        _, rep = await make_user("sales_user", seat="current")
        made = await rep.ok("post", "/meetings", {"title": "x", "start": at(-2), "end": at(-1)})
        await rep.ok("post", f"/meetings/{made['id']}/outcome", {"outcome": "completed"})
        await rep.ok("post", f"/meetings/{made['id']}/outcome", {"outcome": "completed"})
        async with session_factory() as session:
            ids = (
                await session.scalars(
                    select(Activity.event_id).where(Activity.meeting_id == made["id"])
                )
            ).all()
        assert set(ids) == {
            f"leadpipe/meeting-{made['id']}",
            f"leadpipe/meeting-outcome-{made['id']}-1",
        }

    async def test_a_busy_block_has_no_outcome(self, admin, make_user) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        block = await admin.ok("post", "/activities", meeting_post(owner["id"], kind="busy"))
        response = await rep.post(
            f"/meetings/{block['meeting_id']}/outcome", {"outcome": "completed"}
        )
        assert response.status_code == 409
        assert response.json()["errors"][0]["field"] == "outcome"

    async def test_an_unknown_outcome_is_refused(self, make_user) -> None:
        _, rep = await make_user("sales_user", seat="current")
        made = await rep.ok("post", "/meetings", {"title": "x", "start": at(1), "end": at(2)})
        response = await rep.post(f"/meetings/{made['id']}/outcome", {"outcome": "great"})
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "outcome"


class TestCalls:
    async def test_a_call_activity_makes_a_call(self, admin, make_user, make_lead) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        lead = await make_lead(owner_id=owner["id"])
        started = at(-2)
        posted = await admin.ok(
            "post",
            "/activities",
            {
                "event_id": f"dial-{uuid.uuid4().hex}",
                "type": "call",
                "occurred_at": started,
                "user_id": owner["id"],
                "lead_id": lead["id"],
                "call": {"status": "completed", "via_platform": True},
            },
        )
        call = await rep.ok("get", f"/calls/{posted['call_id']}")
        assert call["owner_id"] == owner["id"] and call["lead_id"] == lead["id"]
        assert call["status"] == "completed" and call["outcome"] is None
        assert call["via_platform"] is True
        assert datetime.fromisoformat(call["started_at"]) == datetime.fromisoformat(started)

    async def test_a_connected_outcome_logged_later_connects_the_lead_aut_4(
        self, admin, make_user, make_lead, lead_stages
    ) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        lead = await make_lead(owner_id=owner["id"])
        posted = await admin.ok(
            "post",
            "/activities",
            {
                "event_id": f"dial-{uuid.uuid4().hex}",
                "type": "call",
                "occurred_at": at(0),
                "user_id": owner["id"],
                "lead_id": lead["id"],
                "call": {"status": "completed"},
            },
        )
        await wait_for_stage(admin, lead["id"], lead_stages["Attempting"])
        logged = await rep.ok(
            "post", f"/calls/{posted['call_id']}/outcome", {"outcome": "connected"}
        )
        assert logged["outcome"] == "connected" and logged["status"] == "completed"
        assert (
            await wait_for_stage(admin, lead["id"], lead_stages["Connected"])
            == (lead_stages["Connected"])
        )
        history = await admin.ok("get", f"/leads/{lead['id']}/history")
        assert history[-1]["cause"] == "automation:advance_on_connect"
        assert history[-1]["event_id"] == f"leadpipe/call-outcome-{posted['call_id']}-1"

    async def test_another_outcome_than_connected_does_not_connect(
        self, admin, make_user, make_lead, lead_stages, dev_server_env
    ) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        lead = await make_lead(owner_id=owner["id"])
        posted = await admin.ok(
            "post",
            "/activities",
            {
                "event_id": f"dial-{uuid.uuid4().hex}",
                "type": "call",
                "occurred_at": at(0),
                "user_id": owner["id"],
                "lead_id": lead["id"],
                "call": {"status": "completed"},
            },
        )
        await wait_for_stage(admin, lead["id"], lead_stages["Attempting"])
        await rep.ok("post", f"/calls/{posted['call_id']}/outcome", {"outcome": "left_voicemail"})
        # Events apply in order: once the one after it is applied, the outcome was too.
        marker = {
            "event_id": f"n-{uuid.uuid4().hex}",
            "type": "email_open",  # reaches the workflow (a note would not) and moves nothing
            "occurred_at": at(0),
            "lead_id": lead["id"],
        }
        await admin.ok("post", "/activities", marker)
        await wait_until_applied(dev_server_env, lead["id"], marker["event_id"])
        assert await stage_of(admin, lead["id"]) == lead_stages["Attempting"]

    async def test_another_reps_call_is_not_found(self, admin, make_user) -> None:
        owner, _ = await make_user("sales_user", seat="current")
        _, other = await make_user("sales_user", seat="current")
        contact = await admin.ok("post", "/contacts", {"first_name": "Al"}, status=201)
        posted = await admin.ok(
            "post",
            "/activities",
            {
                "event_id": f"dial-{uuid.uuid4().hex}",
                "type": "call",
                "occurred_at": at(0),
                "user_id": owner["id"],
                "contact_id": contact["id"],
            },
        )
        assert (await other.get(f"/calls/{posted['call_id']}")).status_code == 404
        response = await other.post(f"/calls/{posted['call_id']}/outcome", {"outcome": "busy"})
        assert response.status_code == 404
