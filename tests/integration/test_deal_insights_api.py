"""Deal insights through HTTP: built only from what the caller may see (DEAL-8), from the 100
most recent engagements (DEAL-6), in three sections with one copyable text (DEAL-7, DEAL-10),
behind the account's customer analysis switch (DEAL-9), with feedback kept (DEAL-11)."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from tests.stack import Api


def at(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def post(type_: str, days: float, **fields: Any) -> dict[str, Any]:
    return {"event_id": f"i-{uuid.uuid4().hex}", "type": type_, "occurred_at": at(days), **fields}


@pytest.fixture
async def contact(admin: Api) -> dict[str, Any]:
    made: dict[str, Any] = await admin.ok(
        "post", "/contacts", {"first_name": "Jo", "email": "jo@acme.io"}, status=201
    )
    return made


@pytest.fixture
async def analysis_off(admin: Api) -> AsyncIterator[None]:
    """Customer analysis off for one test; the tests share a database, so it goes back on."""
    await admin.ok("put", "/settings/ai", {"customer_analysis": False})
    try:
        yield
    finally:
        await admin.ok("put", "/settings/ai", {"customer_analysis": True})


def kinds(insights: dict[str, Any]) -> set[str]:
    return {r["kind"] for r in insights["risks"]}


def risk(insights: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(r for r in insights["risks"] if r["kind"] == kind)


async def test_two_reps_get_the_insights_their_visibility_allows_deal_8(
    admin, make_user, contact
) -> None:
    """Rep A emails the deal's contact about a budget cut; rep B sees only the activities
    they logged, so B's insights neither flag the risk nor show the email."""
    rep_a, a = await make_user("sales_user", seat="current")
    rep_b, b = await make_user("sales_user", seat="current")
    await admin.ok("patch", f"/users/{rep_b['id']}", {"permissions": {"activities": "owned"}})
    deal = await a.ok(
        "post", "/deals", {"name": "Acme expansion", "contact_id": contact["id"]}, status=201
    )
    email = await admin.ok(
        "post",
        "/activities",
        post(
            "email_sent",
            -1,
            user_id=rep_a["id"],
            contact_id=contact["id"],
            email={
                "to": ["jo@acme.io"],
                "subject": "Your budget",
                "body": "Hi Jo, sorry to hear about the budget cut. Shall we resize the order?",
            },
        ),
    )
    call = await admin.ok(
        "post",
        "/activities",
        post("call", -2, user_id=rep_b["id"], deal_id=deal["id"], call={"outcome": "connected"}),
    )

    seen_by_a = await a.ok("get", f"/deals/{deal['id']}/insights")
    seen_by_b = await b.ok("get", f"/deals/{deal['id']}/insights")

    assert "budget" in kinds(seen_by_a)
    assert risk(seen_by_a, "budget")["activity_ids"] == [email["id"]]
    assert [r["activity_id"] for r in seen_by_a["recent_activity"]] == [email["id"], call["id"]]
    assert f"[activity {email['id']}]" in seen_by_a["text"]

    assert "budget" not in kinds(seen_by_b)
    assert [r["activity_id"] for r in seen_by_b["recent_activity"]] == [call["id"]]
    assert seen_by_b["based_on"] == {"activities": 1}
    assert "budget" not in seen_by_b["text"].lower()
    assert str(email["id"]) not in [str(i) for r in seen_by_b["risks"] for i in r["activity_ids"]]


async def test_insights_read_the_100_most_recent_engagements_deal_6(admin, make_user) -> None:
    owner, rep = await make_user("sales_user", seat="current")
    deal = await rep.ok("post", "/deals", {"name": "Big one"}, status=201)
    body = {
        "activities": [
            post("note", -i / 100, user_id=owner["id"], deal_id=deal["id"], note={"body": f"n{i}"})
            for i in range(105)
        ]
        + [post("email_open", 0, user_id=owner["id"], deal_id=deal["id"])]
    }
    results = (await admin.ok("post", "/activities:batch", body))["results"]
    ids = [r["activity"]["id"] for r in results]
    insights = await rep.ok("get", f"/deals/{deal['id']}/insights")
    assert insights["based_on"] == {"activities": 100}
    # The open is not an engagement; the newest five notes lead, newest first.
    assert [r["activity_id"] for r in insights["recent_activity"]] == ids[:5]
    assert insights["recent_activity"][0]["summary"] == 'Note: "n0"'


async def test_three_sections_and_one_copyable_text_deal_7_deal_10(
    admin, make_user, contact
) -> None:
    owner, rep = await make_user("sales_user", seat="current")
    deal = await rep.ok("post", "/deals", {"name": "Acme", "contact_id": contact["id"]}, status=201)
    answer = await admin.ok(
        "post",
        "/activities",
        post(
            "email_reply",
            -3,
            user_id=owner["id"],
            contact_id=contact["id"],
            email={"body": "Thanks. We need SSO before the rollout.\n> We need your logo"},
        ),
    )
    meeting = await rep.ok(
        "post",
        "/meetings",
        {
            "title": "Scoping",
            "start": at(-2),
            "end": at(-1.9),
            "deal_id": deal["id"],
            "notes": 'CTO: "Our goal is to cut onboarding to one week." Not sure about the timing.',
        },
        status=201,
    )
    await rep.ok("post", f"/meetings/{meeting['id']}/outcome", {"outcome": "completed"})
    insights = await rep.ok("get", f"/deals/{deal['id']}/insights")

    recent = insights["recent_activity"]
    assert [r["type"] for r in recent] == ["meeting", "email_reply"], "one meeting, counted once"
    assert recent[0]["summary"] == 'Meeting "Scoping" (completed)'
    assert [g["text"] for g in insights["buyer_goals"]] == [
        "Our goal is to cut onboarding to one week.",
        "We need SSO before the rollout.",
    ]
    assert insights["buyer_goals"][1]["activity_ids"] == [answer["id"]]
    assert kinds(insights) == {"no_follow_up", "buyer_uncertainty"}
    assert risk(insights, "no_follow_up")["activity_ids"] == [recent[0]["activity_id"]]
    lines = insights["text"].splitlines()
    assert lines[0] == f'Deal insights: "Acme" (deal {deal["id"]})'
    assert {"Recent activity", "Risks", "Buyer goals"} <= set(lines)
    claims = [line for line in lines if line.startswith("- ")]
    assert claims and all(line.endswith("]") for line in claims)
    assert insights["score"]["value"] == sum(f["points"] for f in insights["score"]["factors"])
    assert "summary" not in insights or insights["summary"] is None


async def test_a_close_date_moved_later_and_a_falling_score_are_risks(
    make_user, session_factory
) -> None:
    _, rep = await make_user("sales_user", seat="current")
    deal = await rep.ok(
        "post", "/deals", {"name": "Slipping", "close_date": "2999-01-31"}, status=201
    )
    await rep.ok("patch", f"/deals/{deal['id']}", {"close_date": "2999-03-31"})
    first = await rep.ok("get", f"/deals/{deal['id']}/insights")
    slipped = risk(first, "close_date_slipped")
    assert "from 2999-01-31 to 2999-03-31" in slipped["text"]
    assert [e["kind"] for e in slipped["evidence"]] == ["close_date_change"]
    assert "falling_score" not in kinds(first)

    async with session_factory() as session, session.begin():
        peak = await session.scalar(
            text(
                "INSERT INTO deal_scores (deal_id, scope, scored_on, score, factors)"
                " VALUES (:deal, 'all', current_date - 10, 90, '[]') RETURNING id"
            ),
            {"deal": deal["id"]},
        )
    second = await rep.ok("get", f"/deals/{deal['id']}/insights")
    fallen = risk(second, "falling_score")
    assert fallen["evidence"][0] == {"kind": "deal_score", "id": peak}
    assert "fell from 90 on " in fallen["text"]
    async with session_factory() as session:
        kept = await session.scalar(
            text("SELECT count(*) FROM deal_scores WHERE deal_id = :deal"), {"deal": deal["id"]}
        )
    assert kept == 2, "one score a day per scope: today's and the inserted one"


async def test_off_insights_answer_409_insights_disabled_deal_9(make_user, analysis_off) -> None:
    _, rep = await make_user("sales_user", seat="current")
    deal = await rep.ok("post", "/deals", {"name": "Quiet"}, status=201)
    for response in (
        await rep.get(f"/deals/{deal['id']}/insights"),
        await rep.post(f"/deals/{deal['id']}/insights/feedback", {"helpful": True}),
    ):
        assert response.status_code == 409, response.text
        assert response.json()["type"] == "/problems/insights-disabled"
    assert await rep.ok("get", "/settings/ai") == {"customer_analysis": False}
    # The rest of the tab stays.
    assert (await rep.get(f"/deals/{deal['id']}/overview")).status_code == 200


async def test_only_admins_switch_customer_analysis(make_user) -> None:
    _, rep = await make_user("sales_user", seat="current")
    assert (await rep.put("/settings/ai", {"customer_analysis": False})).status_code == 403
    assert (await rep.put("/settings/ai", {"customer_analysis": "no"})).status_code == 403


async def test_feedback_is_stored_deal_11(make_user, session_factory) -> None:
    me, rep = await make_user("sales_user", seat="current")
    deal = await rep.ok("post", "/deals", {"name": "Told"}, status=201)
    kept = await rep.ok(
        "post",
        f"/deals/{deal['id']}/insights/feedback",
        {"helpful": False, "comment": "Missed the pricing call"},
        status=201,
    )
    assert (kept["helpful"], kept["comment"], kept["deal_id"]) == (
        False,
        "Missed the pricing call",
        deal["id"],
    )
    async with session_factory() as session:
        row = (
            await session.execute(
                text("SELECT user_id, helpful, comment FROM deal_insight_feedback WHERE id = :id"),
                {"id": kept["id"]},
            )
        ).one()
    assert tuple(row) == (me["id"], False, "Missed the pricing call")
    for bad in ({"helpful": "yes"}, {}, {"helpful": True, "comment": "x" * 2001}):
        response = await rep.post(f"/deals/{deal['id']}/insights/feedback", bad)
        assert response.status_code == 422, response.text


async def test_a_deal_the_caller_may_not_see_has_no_insights_perm_7(admin, make_user) -> None:
    _, owner = await make_user("sales_user", seat="current")
    other, colleague = await make_user("sales_user", seat="current")
    _, legacy = await make_user("sales_user", seat="legacy")
    deal = await owner.ok("post", "/deals", {"name": "Private"}, status=201)
    assert (await colleague.get(f"/deals/{deal['id']}/insights")).status_code == 200
    await admin.ok("patch", f"/users/{other['id']}", {"permissions": {"deals": "owned"}})
    assert (await colleague.get(f"/deals/{deal['id']}/insights")).status_code == 404
    refused = await legacy.get(f"/deals/{deal['id']}/insights")
    assert refused.status_code == 403 and refused.json()["type"] == "/problems/seat-required"
