"""Sequences and enrollments: what the feed's enrollment filter (WS-13) and sequence tasks
(GA-13) stand on."""

import uuid


def name() -> str:
    return f"Sequence {uuid.uuid4().hex[:8]}"


async def test_admins_make_sequences_everyone_lists_them(admin, make_user) -> None:
    _, rep = await make_user("sales_user", seat="current")
    made = await admin.ok("post", "/sequences", {"name": name()}, status=201)
    assert (await rep.post("/sequences", {"name": name()})).status_code == 403
    taken = await admin.post("/sequences", {"name": made["name"]})
    assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "name"
    listed, cursor = [], None
    while True:
        page = await rep.ok("get", "/sequences?limit=500" + (f"&cursor={cursor}" if cursor else ""))
        listed += page["items"]
        if (cursor := page["next_cursor"]) is None:
            break
    assert made in listed


async def test_a_rep_enrolls_a_contact_once_and_unenrolls_it(admin, make_user) -> None:
    me, rep = await make_user("sales_user", seat="current")
    sequence = await admin.ok("post", "/sequences", {"name": name()}, status=201)
    contact = await rep.ok("post", "/contacts", {"first_name": "Jo"}, status=201)
    path = f"/sequences/{sequence['id']}/enrollments"
    enrolled = await rep.ok("post", path, {"contact_id": contact["id"]}, status=201)
    assert enrolled["sequence_id"] == sequence["id"] and enrolled["contact_id"] == contact["id"]
    assert enrolled["user_id"] == me["id"]
    twice = await rep.post(path, {"contact_id": contact["id"]})
    assert twice.status_code == 409 and twice.json()["errors"][0]["field"] == "contact_id"
    assert (await rep.delete(f"{path}/{contact['id']}")).status_code == 204
    assert (await rep.delete(f"{path}/{contact['id']}")).status_code == 404
    # Enrolled again after leaving: a fresh enrollment.
    assert (await rep.post(path, {"contact_id": contact["id"]})).status_code == 201


async def test_an_enrollment_may_name_the_sender(admin, make_user) -> None:
    sender, _ = await make_user("sales_user", seat="current")
    sequence = await admin.ok("post", "/sequences", {"name": name()}, status=201)
    contact = await admin.ok("post", "/contacts", {"first_name": "Jo"}, status=201)
    body = {"contact_id": contact["id"], "user_id": sender["id"]}
    made = await admin.ok("post", f"/sequences/{sequence['id']}/enrollments", body, status=201)
    assert made["user_id"] == sender["id"]


async def test_unknown_sequences_contacts_and_users(admin) -> None:
    sequence = await admin.ok("post", "/sequences", {"name": name()}, status=201)
    contact = await admin.ok("post", "/contacts", {"first_name": "Jo"}, status=201)
    missing = await admin.post("/sequences/2147483647/enrollments", {"contact_id": contact["id"]})
    assert missing.status_code == 404
    path = f"/sequences/{sequence['id']}/enrollments"
    for body, field in (
        ({"contact_id": 2147483647}, "contact_id"),
        ({"contact_id": contact["id"], "user_id": 2147483647}, "user_id"),
        ({"contact_id": "1"}, "contact_id"),
    ):
        response = await admin.post(path, body)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == field
    assert (await admin.delete("/sequences/2147483647/enrollments/1")).status_code == 404
