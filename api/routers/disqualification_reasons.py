from fastapi import APIRouter, Response, status

from api.deps import Admin, AuthFirstRoute, CurrentUser, SessionDep
from api.problems import PROBLEM_RESPONSES
from api.schemas.fields import PathId
from api.schemas.lead_config import (
    LabelChange,
    OrderIn,
    ReasonCreate,
    ReasonRead,
    ReasonsSave,
)
from services import disqualification_reasons as reasons
from services.disqualification_reasons import ReasonEdit

router = APIRouter(
    route_class=AuthFirstRoute,
    prefix="/disqualification-reasons",
    tags=["lead configuration"],
    responses=PROBLEM_RESPONSES,
)


@router.get("", response_model=list[ReasonRead], summary="Reasons that may be chosen, in order")
async def list_reasons(session: SessionDep, actor: CurrentUser) -> list[ReasonRead]:
    return [ReasonRead.model_validate(r) for r in await reasons.list_reasons(session)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ReasonRead,
    summary="Add a reason (admins)",
)
async def create_reason(body: ReasonCreate, session: SessionDep, actor: Admin) -> ReasonRead:
    reason = await reasons.create_reason(session, actor, body.label, body.position)
    return ReasonRead.model_validate(reason)


@router.put(
    "",
    response_model=list[ReasonRead],
    summary="Save the whole list of reasons at once (admins): renames, additions, removals, order",
    description="All or nothing (DIS-9). A reason with an `id` is kept (renamed when its label "
    "differs), one without is added, and one left out is removed as `DELETE` removes it: leads "
    "keep it and follow-up rules drop it (a rule left with no reason switches off). 422 for an "
    "empty or repeated label, or an id that is not a reason that may be chosen.",
)
async def save_reasons(body: ReasonsSave, session: SessionDep, actor: Admin) -> list[ReasonRead]:
    edits = [ReasonEdit(label=r.label, id=r.id) for r in body.reasons]
    return [ReasonRead.model_validate(r) for r in await reasons.save_reasons(session, actor, edits)]


@router.put(
    "/order",
    response_model=list[ReasonRead],
    summary="Reorder the reasons (admins): every id, once, in the new order",
)
async def reorder_reasons(body: OrderIn, session: SessionDep, actor: Admin) -> list[ReasonRead]:
    ordered = await reasons.reorder_reasons(session, actor, body.ids)
    return [ReasonRead.model_validate(r) for r in ordered]


@router.get(
    "/{reason_id}",
    response_model=ReasonRead,
    summary="A reason, a removed one too (leads keep naming it)",
)
async def get_reason(reason_id: PathId, session: SessionDep, actor: CurrentUser) -> ReasonRead:
    return ReasonRead.model_validate(await reasons.get_reason(session, reason_id))


@router.patch("/{reason_id}", response_model=ReasonRead, summary="Rename a reason (admins)")
async def rename_reason(
    reason_id: PathId, body: LabelChange, session: SessionDep, actor: Admin
) -> ReasonRead:
    return ReasonRead.model_validate(
        await reasons.rename_reason(session, actor, reason_id, body.label)
    )


@router.delete(
    "/{reason_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a reason (admins)",
    description="It is no longer offered and leaves every follow-up rule (a rule left with no "
    "reason switches off); leads disqualified with it keep it.",
)
async def remove_reason(reason_id: PathId, session: SessionDep, actor: Admin) -> Response:
    await reasons.remove_reason(session, actor, reason_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
