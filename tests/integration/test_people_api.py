"""People: the user list that names owner ids, admins changing users (roles, seats, time
zones, permissions, deactivation), and each user's own settings (WS-3, WS-7, PERM-7)."""

from typing import Any

import pytest

DETAILS = {"email", "seat", "time_zone", "permissions", "task_settings"}


async def all_users(api) -> list[dict[str, Any]]:
    users: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await api.ok("get", "/users?limit=500" + (f"&cursor={cursor}" if cursor else ""))
        users += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return users


class TestNamingOwners:
    async def test_any_signed_in_user_can_name_every_owner_id(self, make_user) -> None:
        owner, _ = await make_user("sales_user", name="Ana Rep", seat="current")
        _, service = await make_user("service")
        listed = {u["id"]: u for u in await all_users(service)}
        assert listed[owner["id"]] == {
            "id": owner["id"],
            "name": "Ana Rep",
            "role": "sales_user",
            "active": True,
        }
        one = await service.ok("get", f"/users/{owner['id']}")
        assert not DETAILS & one.keys()

    async def test_admins_see_the_details_and_each_user_their_own(self, admin, make_user) -> None:
        owner, rep = await make_user("sales_user", seat="current", time_zone="Europe/Helsinki")
        seen = await admin.ok("get", f"/users/{owner['id']}")
        assert seen["email"] == owner["email"] and seen["seat"] == "current"
        assert seen["time_zone"] == "Europe/Helsinki"
        assert seen["permissions"] == {"deals": "all", "activities": "all"}
        assert seen["task_settings"] == {"prompt_follow_up_on_complete": True}
        assert (await rep.ok("get", f"/users/{owner['id']}")).keys() >= DETAILS
        listed = {u["id"]: u for u in await all_users(admin)}
        assert listed[owner["id"]].keys() >= DETAILS

    async def test_pages_follow_ids(self, admin, make_user) -> None:
        for _ in range(3):
            await make_user("sales_user")
        first = await admin.ok("get", "/users?limit=2")
        second = await admin.ok("get", f"/users?limit=2&cursor={first['next_cursor']}")
        ids = [u["id"] for u in first["items"] + second["items"]]
        assert ids == sorted(ids) and len(set(ids)) == 4

    async def test_an_unknown_user_is_not_found(self, admin) -> None:
        assert (await admin.get("/users/2147483647")).status_code == 404


class TestAdminsChangeUsers:
    async def test_an_admin_changes_name_seat_time_zone_and_permissions_perm_7(
        self, admin, make_user
    ) -> None:
        owner, _ = await make_user("sales_user")
        _, boss = await make_user("admin")
        changed = await boss.ok(
            "patch",
            f"/users/{owner['id']}",
            {
                "name": "Ana B",
                "seat": "current",
                "time_zone": "America/New_York",
                "permissions": {"deals": "owned"},
            },
        )
        assert changed["name"] == "Ana B" and changed["seat"] == "current"
        assert changed["time_zone"] == "America/New_York"
        assert changed["permissions"] == {"deals": "owned", "activities": "all"}
        again = await boss.ok("patch", f"/users/{owner['id']}", {"seat": None})
        assert again["seat"] is None and again["permissions"]["deals"] == "owned"
        log = await admin.ok("get", "/audit-log?entity=user")
        entry = next(e for e in log["items"] if e["entity_id"] == owner["id"])
        assert entry["before"]["seat"] == "current" and entry["after"]["seat"] is None

    @pytest.mark.parametrize("zone", ["Mars/Olympus", "+02:00", "../etc/passwd", ""])
    async def test_a_time_zone_must_be_an_iana_name(self, admin, make_user, zone) -> None:
        owner, rep = await make_user("sales_user")
        for api, path in ((admin, f"/users/{owner['id']}"), (rep, "/users/me")):
            response = await api.patch(path, {"time_zone": zone})
            assert response.status_code == 422
            assert response.json()["errors"][0]["field"] == "time_zone"

    async def test_nulls_on_required_fields_are_refused(self, admin, make_user) -> None:
        owner, _ = await make_user("sales_user")
        for field in ("name", "role", "time_zone", "active", "permissions"):
            response = await admin.patch(f"/users/{owner['id']}", {field: None})
            assert response.status_code == 422, field
            assert response.json()["errors"][0]["rule"] == "not_nullable"
        bad = await admin.patch(f"/users/{owner['id']}", {"permissions": {"deals": "some"}})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "permissions.deals"

    async def test_only_a_super_admin_grants_or_changes_super_admins(
        self, admin, make_user
    ) -> None:
        owner, _ = await make_user("sales_user")
        chief, _ = await make_user("super_admin")
        _, boss = await make_user("admin")
        grant = await boss.patch(f"/users/{owner['id']}", {"role": "super_admin"})
        assert grant.status_code == 403
        assert (await boss.patch(f"/users/{chief['id']}", {"active": False})).status_code == 403
        assert (await boss.patch(f"/users/{chief['id']}", {"name": "x"})).status_code == 403
        granted = await admin.ok("patch", f"/users/{owner['id']}", {"role": "super_admin"})
        assert granted["role"] == "super_admin"
        # Now a super admin, the user is out of the plain admin's reach.
        assert (await boss.patch(f"/users/{owner['id']}", {"role": "admin"})).status_code == 403

    async def test_nobody_deactivates_themselves_or_changes_their_own_role(self, make_user) -> None:
        me, boss = await make_user("admin")
        for body, field in (({"active": False}, "active"), ({"role": "sales_user"}, "role")):
            response = await boss.patch(f"/users/{me['id']}", body)
            assert response.status_code == 409
            assert response.json()["errors"][0]["field"] == field
        assert (await boss.ok("patch", f"/users/{me['id']}", {"name": "Still me"}))["active"]

    async def test_a_deactivated_users_token_stops_working_and_comes_back(
        self, admin, make_user
    ) -> None:
        owner, rep = await make_user("sales_user", seat="current")
        assert (await rep.get("/users/me")).status_code == 200
        off = await admin.ok("patch", f"/users/{owner['id']}", {"active": False})
        assert off["active"] is False
        for response in (await rep.get("/users/me"), await rep.get("/tasks")):
            assert response.status_code == 401
            assert response.json()["type"] == "/problems/unauthorized"
        listed = {u["id"]: u for u in await all_users(admin)}
        assert listed[owner["id"]]["active"] is False
        await admin.ok("patch", f"/users/{owner['id']}", {"active": True})
        assert (await rep.get("/users/me")).status_code == 200

    async def test_a_sales_user_changes_nobody(self, make_user) -> None:
        owner, rep = await make_user("sales_user")
        response = await rep.patch(f"/users/{owner['id']}", {"name": "x"})
        assert response.status_code == 403


class TestOwnSettings:
    async def test_a_user_changes_their_name_time_zone_and_task_settings(self, make_user) -> None:
        _, rep = await make_user("sales_user", seat="current")
        changed = await rep.ok(
            "patch",
            "/users/me",
            {
                "name": "Ana",
                "time_zone": "Asia/Tokyo",
                "task_settings": {"prompt_follow_up_on_complete": False},
            },
        )
        assert changed["name"] == "Ana" and changed["time_zone"] == "Asia/Tokyo"
        assert changed["task_settings"] == {"prompt_follow_up_on_complete": False}
        assert (await rep.ok("get", "/users/me"))["task_settings"] == changed["task_settings"]

    async def test_a_user_cannot_change_their_own_role_seat_or_permissions(self, make_user) -> None:
        _, rep = await make_user("sales_user", seat="legacy")
        for body in ({"role": "admin"}, {"seat": "current"}, {"permissions": {"deals": "all"}}):
            response = await rep.patch("/users/me", body)
            assert response.status_code == 422
            assert response.json()["errors"][0]["rule"] == "extra_forbidden"
