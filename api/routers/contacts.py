from fastapi import APIRouter, status

from api.deps import (
    AuthFirstRoute,
    CurrentUser,
    OrchestratorDep,
    RecordEditor,
    SessionDep,
    SessionFactoryDep,
)
from api.problems import PROBLEM_RESPONSES
from api.schemas.contacts import (
    CompanyCreate,
    CompanyRead,
    CompanyUpdate,
    ContactCreate,
    ContactRead,
    ContactUpdate,
    LifecycleChangeRead,
)
from api.schemas.fields import PathId
from services import contacts
from services.contacts import ContactChanges

router = APIRouter(
    route_class=AuthFirstRoute, tags=["contacts and companies"], responses=PROBLEM_RESPONSES
)


@router.post(
    "/contacts",
    status_code=status.HTTP_201_CREATED,
    response_model=ContactRead,
    description="A contact created in a trigger lifecycle stage gets a lead when the lead "
    "settings say so (`create_lead_on_lifecycle`).",
)
async def create_contact(
    body: ContactCreate,
    session_factory: SessionFactoryDep,
    orchestrator: OrchestratorDep,
    actor: RecordEditor,
) -> ContactRead:
    contact = await contacts.create_contact(session_factory, orchestrator, actor, body.model_dump())
    return ContactRead.model_validate(contact)


@router.get("/contacts/{contact_id}", response_model=ContactRead)
async def get_contact(contact_id: PathId, session: SessionDep, actor: CurrentUser) -> ContactRead:
    return ContactRead.model_validate(await contacts.get_contact(session, contact_id))


@router.patch(
    "/contacts/{contact_id}",
    response_model=ContactRead,
    description="A change of `lifecycle_stage` is recorded with its `change_source`; a change "
    "to a trigger stage creates a lead when the lead settings say so, unless it came from "
    "`company_sync`.",
)
async def update_contact(
    contact_id: PathId,
    body: ContactUpdate,
    session_factory: SessionFactoryDep,
    orchestrator: OrchestratorDep,
    actor: RecordEditor,
) -> ContactRead:
    values = body.model_dump(exclude_unset=True, exclude={"change_source"})
    contact = await contacts.update_contact(
        session_factory, orchestrator, actor, contact_id, ContactChanges(values, body.change_source)
    )
    return ContactRead.model_validate(contact)


@router.get(
    "/contacts/{contact_id}/lifecycle-changes",
    response_model=list[LifecycleChangeRead],
    summary="The contact's lifecycle-stage changes with their source, oldest first",
)
async def lifecycle_changes(
    contact_id: PathId, session: SessionDep, actor: CurrentUser
) -> list[LifecycleChangeRead]:
    return [
        LifecycleChangeRead.model_validate(c)
        for c in await contacts.lifecycle_changes(session, contact_id)
    ]


@router.post("/companies", status_code=status.HTTP_201_CREATED, response_model=CompanyRead)
async def create_company(
    body: CompanyCreate, session: SessionDep, actor: RecordEditor
) -> CompanyRead:
    return CompanyRead.model_validate(
        await contacts.create_company(session, actor, body.model_dump())
    )


@router.get("/companies/{company_id}", response_model=CompanyRead)
async def get_company(company_id: PathId, session: SessionDep, actor: CurrentUser) -> CompanyRead:
    return CompanyRead.model_validate(await contacts.get_company(session, company_id))


@router.patch("/companies/{company_id}", response_model=CompanyRead)
async def update_company(
    company_id: PathId, body: CompanyUpdate, session: SessionDep, actor: RecordEditor
) -> CompanyRead:
    company = await contacts.update_company(
        session, actor, company_id, body.model_dump(exclude_unset=True)
    )
    return CompanyRead.model_validate(company)
