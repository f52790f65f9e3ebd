"""The workspace switch (PERM-9): off, the workspace endpoints answer 404 to everyone."""

from collections.abc import AsyncIterator

import pytest

from tests.stack import Api


@pytest.fixture
async def switched_off(admin: Api) -> AsyncIterator[None]:
    """The workspace off for one test; the tests share one database, so it is turned back on."""
    await admin.ok("put", "/settings/workspace", {"enabled": False})
    try:
        yield
    finally:
        await admin.ok("put", "/settings/workspace", {"enabled": True})


async def test_the_workspace_is_on_by_default_perm_9(make_user) -> None:
    _, rep = await make_user("sales_user", seat="current")
    assert await rep.ok("get", "/settings/workspace") == {"enabled": True}
    assert (await rep.get("/tasks")).status_code == 200


async def test_off_the_task_endpoints_answer_404_to_everyone_perm_9(
    admin, make_user, switched_off
) -> None:
    _, rep = await make_user("sales_user", seat="current")
    _, legacy = await make_user("sales_user", seat="legacy")
    for api in (rep, legacy, admin):
        for response in (
            await api.get("/tasks"),
            await api.post("/tasks", {"title": "x"}),
            await api.get("/tasks/1"),
            await api.post("/tasks/1/complete"),
        ):
            assert response.status_code == 404, response.text
            assert response.json()["type"] == "/problems/not-found"
    # Not signed in is still 401: the switch hides the feature, not the sign-in.
    assert (await admin.as_(None).get("/tasks")).status_code == 401
    assert await rep.ok("get", "/settings/workspace") == {"enabled": False}


async def test_off_even_an_unreadable_body_gets_404_perm_9(make_user, http, switched_off) -> None:
    _, rep = await make_user("sales_user", seat="current")
    response = await http.post(
        "/v1/tasks",
        content=b'{"title": ',
        headers={"Authorization": f"Bearer {rep.token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 404


async def test_back_on_the_tasks_are_where_they_were_perm_9(admin, make_user) -> None:
    _, rep = await make_user("sales_user", seat="current")
    task = await rep.ok("post", "/tasks", {"title": "Call"}, status=201)
    await admin.ok("put", "/settings/workspace", {"enabled": False})
    try:
        assert (await rep.get(f"/tasks/{task['id']}")).status_code == 404
    finally:
        await admin.ok("put", "/settings/workspace", {"enabled": True})
    assert (await rep.ok("get", f"/tasks/{task['id']}"))["title"] == "Call"


async def test_only_admins_switch_it_and_it_is_audited(admin, make_user) -> None:
    _, rep = await make_user("sales_user", seat="current")
    assert (await rep.put("/settings/workspace", {"enabled": False})).status_code == 403
    bad = await admin.put("/settings/workspace", {"enabled": "no"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "enabled"
    await admin.ok("put", "/settings/workspace", {"enabled": False})
    await admin.ok("put", "/settings/workspace", {"enabled": True})
    [entry] = (await admin.ok("get", "/audit-log?entity=workspace_settings&limit=1"))["items"]
    assert entry["before"] == {"enabled": False} and entry["after"] == {"enabled": True}
