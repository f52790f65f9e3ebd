"""Static contact lists through HTTP: admins create them, everyone reads them and their
members page by page; members come from the chain actions `add_to_list`/`remove_from_list`."""

import uuid

from domain.chains import ContactListConfig
from services import marketing_effects


def name() -> str:
    return f"List {uuid.uuid4().hex[:8]}"


async def test_admins_make_lists_everyone_reads_them(admin, make_user) -> None:
    _, rep = await make_user("sales_user", seat="current")
    made = await admin.ok("post", "/lists", {"name": name()}, status=201)
    assert (await rep.post("/lists", {"name": name()})).status_code == 403
    taken = await admin.post("/lists", {"name": made["name"]})
    assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "name"
    assert await rep.ok("get", f"/lists/{made['id']}") == made
    listed, cursor = [], None
    while True:
        page = await rep.ok("get", "/lists?limit=500" + (f"&cursor={cursor}" if cursor else ""))
        listed += page["items"]
        if (cursor := page["next_cursor"]) is None:
            break
    assert made in listed


async def test_a_bad_name_is_refused_naming_the_field(admin) -> None:
    for bad in ("", "two\nlines", "x" * 201):
        response = await admin.post("/lists", {"name": bad})
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"] == "name"


async def test_members_page_by_contact_id(admin, make_lead, session_factory) -> None:
    made = await admin.ok("post", "/lists", {"name": name()}, status=201)
    leads = [await make_lead() for _ in range(3)]
    config = ContactListConfig(list_id=made["id"])
    async with session_factory() as session:
        for lead in leads:
            key = f"chain-{uuid.uuid4().hex}/a_00000003/1"
            await marketing_effects.add_to_list(session, key, lead["id"], config)
    first = await admin.ok("get", f"/lists/{made['id']}/members?limit=2")
    second = await admin.ok(
        "get", f"/lists/{made['id']}/members?limit=2&cursor={first['next_cursor']}"
    )
    assert second["next_cursor"] is None
    members = first["items"] + second["items"]
    assert [m["contact_id"] for m in members] == sorted(lead["contact_id"] for lead in leads)
    assert members[0]["first_name"] == "Jo" and members[0]["added_at"]


async def test_an_unknown_list_is_404(admin) -> None:
    assert (await admin.get("/lists/2147483647")).status_code == 404
    assert (await admin.get("/lists/2147483647/members")).status_code == 404
