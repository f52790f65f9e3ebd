from fastapi import APIRouter, Response, status

from api.deps import Admin, AuthFirstRoute, CurrentUser, SessionDep
from api.problems import PROBLEM_RESPONSES
from api.schemas.fields import PathId
from api.schemas.lead_config import LabelChange, LeadLabelRead, LeadTypeCreate, LeadTypeRead
from domain.leads import LeadLabel
from services import lead_types

router = APIRouter(
    route_class=AuthFirstRoute, tags=["lead configuration"], responses=PROBLEM_RESPONSES
)


@router.get("/lead-types", response_model=list[LeadTypeRead], summary="Lead types in use")
async def list_lead_types(session: SessionDep, actor: CurrentUser) -> list[LeadTypeRead]:
    return [LeadTypeRead.model_validate(t) for t in await lead_types.list_lead_types(session)]


@router.post(
    "/lead-types",
    status_code=status.HTTP_201_CREATED,
    response_model=LeadTypeRead,
    summary="Add a lead type (admins); its key is derived from the label",
)
async def create_lead_type(body: LeadTypeCreate, session: SessionDep, actor: Admin) -> LeadTypeRead:
    return LeadTypeRead.model_validate(
        await lead_types.create_lead_type(session, actor, body.label)
    )


@router.get("/lead-types/{type_id}", response_model=LeadTypeRead)
async def get_lead_type(type_id: PathId, session: SessionDep, actor: CurrentUser) -> LeadTypeRead:
    return LeadTypeRead.model_validate(await lead_types.get_lead_type(session, type_id))


@router.patch(
    "/lead-types/{type_id}",
    response_model=LeadTypeRead,
    summary="Rename a lead type (admins); the key stays",
)
async def rename_lead_type(
    type_id: PathId, body: LabelChange, session: SessionDep, actor: Admin
) -> LeadTypeRead:
    return LeadTypeRead.model_validate(
        await lead_types.rename_lead_type(session, actor, type_id, body.label)
    )


@router.delete(
    "/lead-types/{type_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a lead type (admins); leads of this type keep it",
)
async def remove_lead_type(type_id: PathId, session: SessionDep, actor: Admin) -> Response:
    await lead_types.remove_lead_type(session, actor, type_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/lead-labels", response_model=list[LeadLabelRead], summary="Lead labels")
async def list_lead_labels(actor: CurrentUser) -> list[LeadLabelRead]:
    return [LeadLabelRead(key=label.value, label=label.value.title()) for label in LeadLabel]
