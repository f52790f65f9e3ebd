"""The access suite runs on the shared in-process stack (tests/stack.py)."""

import uuid
from typing import Any

import pytest

from tests.authz.world import Callers, World
from tests.stack import Api, StackOrchestrator

# Who calls, and with which seat. The records a test makes belong to `sales_user`;
# `other_user` is a second rep with a current seat acting on them.
USERS: dict[str, dict[str, Any]] = {
    "service": {"role": "service"},
    "legacy_seat": {"role": "sales_user", "seat": "legacy"},
    "sales_user": {"role": "sales_user", "seat": "current"},
    "admin": {"role": "admin"},
    "super_admin": {"role": "super_admin"},
    "other_user": {"role": "sales_user", "seat": "current"},
}


@pytest.fixture(scope="session")
async def callers(make_user, admin: Api) -> Callers:
    tokens: dict[str, str | None] = {"anonymous": None, "bad_token": "lp_" + uuid.uuid4().hex}
    ids: dict[str, int] = {}
    for name, fields in USERS.items():
        user, api = await make_user(name=name.replace("_", " "), **fields)
        tokens[name] = api.token
        ids[name] = user["id"]
    return Callers(tokens, ids)


@pytest.fixture
def world(admin: Api, callers: Callers, orchestrator: StackOrchestrator) -> World:
    return World(
        admin, admin.as_(callers.tokens["sales_user"]), callers.ids["sales_user"], orchestrator
    )
