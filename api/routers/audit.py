from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Admin, AuthFirstRoute, SessionDep
from api.problems import PROBLEM_RESPONSES
from api.schemas.audit import AuditEntryRead
from api.schemas.common import PageOf
from api.schemas.fields import Cursor
from services import audit
from services.pagination import DEFAULT_LIMIT, page_request

router = APIRouter(
    route_class=AuthFirstRoute,
    prefix="/audit-log",
    tags=["lead configuration"],
    responses=PROBLEM_RESPONSES,
)


@router.get(
    "",
    response_model=PageOf[AuditEntryRead],
    summary="Configuration changes, newest first (admins)",
)
async def list_audit_log(
    session: SessionDep,
    actor: Admin,
    entity: audit.Entity | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOf[AuditEntryRead]:
    page = await audit.list_entries(session, actor, entity, page_request(limit, cursor))
    return PageOf[AuditEntryRead].model_validate(page)
