"""Request-scoped dependencies: session, orchestrator, settings and the caller.

Routes that need a role take the caller as `Admin`, `RecordEditor` or `WorkspaceUser` instead
of `CurrentUser`. FastAPI solves these before it validates path, query and body, so a caller
without the role gets 401/403 and never a 422 describing what it may not send. The services
check the same rules again (activities call them without HTTP): the service check is the rule,
the dependency the early gate, and both read the role sets in domain/roles.py.
"""

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException

from config import Settings
from db.engine import SessionFactory, use_autocommit
from db.models import User
from domain.errors import invalid
from domain.roles import ADMINS, RECORD_EDITORS, Role
from services.auth import admit_to_workspace, authenticate, require_role
from services.orchestrator import Orchestrator
from services.workspace_settings import require_enabled

bearer = HTTPBearer(auto_error=False, description="A user's API token")


# Dependencies are `async def` even when they do not await: FastAPI runs a plain `def`
# dependency in its thread pool, two thread hops per request for a field lookup.


def session_factory_of(request: Request) -> SessionFactory:
    factory: SessionFactory = request.app.state.session_factory
    return factory


async def get_session_factory(request: Request) -> SessionFactory:
    return session_factory_of(request)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with session_factory_of(request)() as session:
        yield session


async def get_orchestrator(request: Request) -> Orchestrator:
    orchestrator: Orchestrator = request.app.state.orchestrator
    return orchestrator


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_current_user(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> User:
    # Its own short session, so the route's session starts clean for the service's transaction;
    # one lookup, so no transaction around it.
    async with session_factory_of(request)() as session:
        await use_autocommit(session)
        return await authenticate(session, credentials.credentials if credentials else None)


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SessionFactoryDep = Annotated[SessionFactory, Depends(get_session_factory)]
OrchestratorDep = Annotated[Orchestrator, Depends(get_orchestrator)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
CurrentUser = Annotated[User, Depends(get_current_user)]


@dataclass(frozen=True)
class Gate:
    """A dependency that lets the caller through or raises Forbidden (`check(user, action)`)."""

    check: Callable[[User, str], None]

    async def __call__(self, request: Request, user: CurrentUser) -> User:
        self.check(user, f"{request.method} {request.url.path}")
        return user


class WorkspaceSwitch(Gate):
    """PERM-9: while the account has the workspace switched off, its endpoints answer 404 to
    every signed-in caller, as if they were not there. A Gate, so AuthFirstRoute applies it
    to unreadable bodies too; put it first on a router (`dependencies=[WorkspaceOn]`)."""

    async def __call__(self, request: Request, user: CurrentUser) -> User:
        async with session_factory_of(request)() as session:
            await use_autocommit(session)
            await require_enabled(session)
        return user


def require_roles(allowed: frozenset[Role]) -> Gate:
    def check(user: User, action: str) -> None:
        require_role(user, allowed, action)

    return Gate(check)


class AuthFirstRoute(APIRoute):
    """A route that authenticates and authorizes even when its body is not JSON.

    FastAPI parses a JSON body before it solves any dependency, so malformed JSON would be a
    422 (or 400) to anyone. When that happens, this route runs its own auth dependencies first
    and answers their 401/403 instead.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        authenticated, gates = _auth_of(self.dependant)
        if not authenticated:
            return handle

        async def run(request: Request) -> Response:
            try:
                return await handle(request)
            except (RequestValidationError, HTTPException) as err:
                if _is_unreadable_body(err):
                    user = await get_current_user(request, await bearer(request))
                    for gate in gates:
                        await gate(request, user)
                raise

        return run


def _auth_of(dependant: Dependant) -> tuple[bool, list[Gate]]:
    """Whether the dependency tree authenticates the caller, and its gates in order."""
    authenticated = False
    gates: list[Gate] = []
    for sub in dependant.dependencies:
        if isinstance(sub.call, Gate):
            gates.append(sub.call)
        sub_authenticated, sub_gates = _auth_of(sub)
        authenticated = authenticated or sub_authenticated or sub.call is get_current_user
        gates += sub_gates
    return authenticated, gates


def _is_unreadable_body(err: RequestValidationError | HTTPException) -> bool:
    # FastAPI answers a body it cannot decode with one `json_invalid` error, or a 400 when the
    # bytes are not text at all; both come before any dependency has run.
    if isinstance(err, HTTPException):
        return err.status_code == 400
    return any(e.get("type") == "json_invalid" for e in err.errors())


Admin = Annotated[User, Depends(require_roles(ADMINS))]
RecordEditor = Annotated[User, Depends(require_roles(RECORD_EDITORS))]
# PERM-3/PERM-4: a current seat, or a super admin (the service decides whose workspace).
WorkspaceUser = Annotated[User, Depends(Gate(admit_to_workspace))]
# PERM-9: on every workspace router, before anything else.
WorkspaceOn = Depends(WorkspaceSwitch(check=lambda user, action: None))


def _query_names(route: APIRoute) -> frozenset[str]:
    """Every query parameter the route's tree of dependencies takes, kept on the route."""

    def names(dependant: Dependant) -> set[str]:
        found = {param.alias for param in dependant.query_params}
        for sub in dependant.dependencies:
            found |= names(sub)
        return found

    known: frozenset[str] | None = getattr(route, "_query_names", None)
    if known is None:
        known = frozenset(names(route.dependant))
        # Routes compare by value and are not hashable: the answer is kept on the route itself.
        route._query_names = known  # type: ignore[attr-defined]  # set once, read above
    return known


async def refuse_unknown_query(request: Request, user: CurrentUser) -> None:
    """A query parameter the route does not take is a mistake to report, not to ignore: a
    misspelt filter would otherwise answer unfiltered data with a 200. Authenticates first,
    so only a signed-in caller learns which parameters a route takes."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _query_names(route)
    for name in request.query_params:
        if name not in known:
            taken = ", ".join(sorted(known)) or "none"
            raise invalid(
                name, "unknown_parameter", f"unknown query parameter {name!r}; taken: {taken}"
            )


# Put after the caller's role dependency, so a refused caller hears 401/403 first.
KnownQuery = Annotated[None, Depends(refuse_unknown_query)]
