from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from api.deps import (
    AuthFirstRoute,
    CurrentUser,
    OrchestratorDep,
    RecordEditor,
    SessionDep,
    SessionFactoryDep,
)
from api.problems import PROBLEM_RESPONSES
from api.schemas.common import PageOf
from api.schemas.fields import Cursor, IdempotencyKey, Line, PathId, QueryId
from api.schemas.leads import (
    LeadCreate,
    LeadRead,
    LeadUpdate,
    OwnerChangeIn,
    StageChangeRead,
    StageMoveIn,
)
from db.repositories.leads import LeadFilter
from domain.leads import DealDraft, LeadLabel
from services import leads
from services.leads import NewLead, StageMove
from services.pagination import DEFAULT_LIMIT, page_request

router = APIRouter(
    route_class=AuthFirstRoute, prefix="/leads", tags=["leads"], responses=PROBLEM_RESPONSES
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=LeadRead,
    summary="Create a lead and start its workflow",
    responses={200: {"model": LeadRead, "description": "A retry with the same Idempotency-Key"}},
)
async def create_lead(
    body: LeadCreate,
    response: Response,
    session_factory: SessionFactoryDep,
    orchestrator: OrchestratorDep,
    actor: RecordEditor,
    idempotency_key: Annotated[
        IdempotencyKey | None,
        Header(description="Retries with the same key return the first lead"),
    ] = None,
) -> LeadRead:
    lead, created = await leads.create_lead(
        session_factory,
        orchestrator,
        actor,
        NewLead(**body.model_dump()),
        idempotency_key=idempotency_key,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return LeadRead.model_validate(lead)


@router.get("", response_model=PageOf[LeadRead], summary="List leads")
async def list_leads(
    session: SessionDep,
    actor: CurrentUser,
    pipeline_id: QueryId = None,
    stage_id: QueryId = None,
    owner_id: QueryId = None,
    contact_id: QueryId = None,
    company_id: QueryId = None,
    lead_type: Annotated[Annotated[str, Line(50)] | None, Query()] = None,
    label: LeadLabel | None = None,
    q: Annotated[
        Annotated[str, Line(200)] | None,
        Query(description="Matches lead and contact names, email"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOf[LeadRead]:
    filters = LeadFilter(
        pipeline_id=pipeline_id,
        stage_id=stage_id,
        owner_id=owner_id,
        contact_id=contact_id,
        company_id=company_id,
        lead_type=lead_type,
        label=label.value if label else None,
        q=q,
    )
    page = await leads.list_leads(session, filters, page_request(limit, cursor))
    return PageOf[LeadRead].model_validate(page)


@router.get("/{lead_id}", response_model=LeadRead)
async def get_lead(lead_id: PathId, session: SessionDep, actor: CurrentUser) -> LeadRead:
    return LeadRead.model_validate(await leads.get_lead(session, lead_id))


@router.patch(
    "/{lead_id}",
    response_model=LeadRead,
    summary="Edit a lead's name, label, type, contact or company",
    description="A contact or company newly associated takes the lifecycle stage the lead "
    "settings set (`set_lifecycle_on_associate`), as at creation (SET-6). Stage and owner "
    "change through `POST /leads/{id}/stage` and `/owner`.",
)
async def update_lead(
    lead_id: PathId,
    body: LeadUpdate,
    session_factory: SessionFactoryDep,
    orchestrator: OrchestratorDep,
    actor: RecordEditor,
) -> LeadRead:
    lead = await leads.update_lead(
        session_factory, orchestrator, actor, lead_id, body.model_dump(exclude_unset=True)
    )
    return LeadRead.model_validate(lead)


@router.post(
    "/{lead_id}/stage",
    response_model=LeadRead,
    summary="Move a lead to another stage",
    description="Goes through the lead's workflow; a move the settings forbid is a 422 naming "
    "the missing piece. A move to an earlier stage turns automatic progression off for good.",
)
async def move_stage(
    lead_id: PathId,
    body: StageMoveIn,
    session: SessionDep,
    orchestrator: OrchestratorDep,
    actor: RecordEditor,
) -> LeadRead:
    move = StageMove(
        stage_id=body.stage_id,
        disqualification_reason_id=body.disqualification_reason_id,
        deal=DealDraft(**body.deal.model_dump()) if body.deal else None,
    )
    return LeadRead.model_validate(
        await leads.move_stage(session, orchestrator, actor, lead_id, move)
    )


@router.post("/{lead_id}/owner", response_model=LeadRead, summary="Reassign a lead")
async def change_owner(
    lead_id: PathId,
    body: OwnerChangeIn,
    session: SessionDep,
    orchestrator: OrchestratorDep,
    actor: RecordEditor,
) -> LeadRead:
    lead = await leads.change_owner(session, orchestrator, actor, lead_id, body.owner_id)
    return LeadRead.model_validate(lead)


@router.get(
    "/{lead_id}/history",
    response_model=list[StageChangeRead],
    summary="Stage changes, oldest first",
)
async def history(
    lead_id: PathId, session: SessionDep, actor: CurrentUser
) -> list[StageChangeRead]:
    return [StageChangeRead.model_validate(c) for c in await leads.lead_history(session, lead_id)]
