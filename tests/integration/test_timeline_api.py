"""The activity timeline: a record's activities newest first, paged, filtered by type and by
what the caller may see (PERM-7: `owned` shows the activities one logged)."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any


def posted(type_: str, minutes_ago: int, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": f"t-{uuid.uuid4().hex}",
        "type": type_,
        "occurred_at": (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat(),
        **fields,
    }


async def test_a_contacts_timeline_is_newest_first_and_pages(admin) -> None:
    contact = await admin.ok("post", "/contacts", {"first_name": "Jo"}, status=201)
    ids = []
    for minutes_ago in (30, 10, 20, 10):
        made = await admin.ok(
            "post", "/activities", posted("note", minutes_ago, contact_id=contact["id"])
        )
        ids.append(made["id"])
    # 10 minutes ago twice: the later id first.
    expected = [ids[3], ids[1], ids[2], ids[0]]
    first = await admin.ok("get", f"/activities?contact_id={contact['id']}&limit=3")
    second = await admin.ok(
        "get", f"/activities?contact_id={contact['id']}&limit=3&cursor={first['next_cursor']}"
    )
    assert [a["id"] for a in first["items"] + second["items"]] == expected
    assert second["next_cursor"] is None


async def test_filters_by_record_and_type(admin, make_lead) -> None:
    lead = await make_lead()
    other = await admin.ok("post", "/contacts", {"first_name": "Al"}, status=201)
    deal = await admin.ok("post", "/deals", {"name": "Big"}, status=201)
    note = await admin.ok("post", "/activities", posted("note", 5, lead_id=lead["id"]))
    mail = await admin.ok("post", "/activities", posted("email_open", 4, lead_id=lead["id"]))
    elsewhere = await admin.ok("post", "/activities", posted("note", 3, contact_id=other["id"]))
    on_deal = await admin.ok("post", "/activities", posted("note", 2, deal_id=deal["id"]))

    async def ids(query: str) -> list[int]:
        return [a["id"] for a in (await admin.ok("get", f"/activities?{query}"))["items"]]

    assert await ids(f"lead_id={lead['id']}") == [mail["id"], note["id"]]
    assert await ids(f"lead_id={lead['id']}&type=note") == [note["id"]]
    assert await ids(f"contact_id={other['id']}") == [elsewhere["id"]]
    assert await ids(f"deal_id={deal['id']}") == [on_deal["id"]]
    bad = await admin.get("/activities", type="fax")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "type"


async def test_owned_activity_visibility_shows_only_what_one_logged_perm_7(
    admin, make_user
) -> None:
    me, rep = await make_user("sales_user", seat="current")
    colleague, _ = await make_user("sales_user", seat="current")
    contact = await admin.ok("post", "/contacts", {"first_name": "Jo"}, status=201)
    mine = await admin.ok(
        "post", "/activities", posted("email_sent", 2, contact_id=contact["id"], user_id=me["id"])
    )
    theirs = await admin.ok(
        "post",
        "/activities",
        posted("email_sent", 1, contact_id=contact["id"], user_id=colleague["id"]),
    )
    query = f"/activities?contact_id={contact['id']}"
    seen = await rep.ok("get", query)
    assert [a["id"] for a in seen["items"]] == [theirs["id"], mine["id"]]
    await admin.ok("patch", f"/users/{me['id']}", {"permissions": {"activities": "owned"}})
    seen = await rep.ok("get", query)
    assert [a["id"] for a in seen["items"]] == [mine["id"]]
    assert len((await admin.ok("get", query))["items"]) == 2


async def test_a_cursor_not_handed_out_is_a_422(admin) -> None:
    for cursor in ("nonsense", "aWQ6NQ", "YXR8bm90LWEtdGltZXw1"):
        response = await admin.get("/activities", cursor=cursor)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "cursor"
