from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import Admin, AuthFirstRoute, CurrentUser, RecordEditor, SessionDep
from api.problems import PROBLEM_RESPONSES
from api.schemas.common import PageOf
from api.schemas.fields import Cursor, PathId
from api.schemas.sequences import EnrollmentCreate, EnrollmentRead, SequenceCreate, SequenceRead
from services import sequences
from services.pagination import DEFAULT_LIMIT, page_request

router = APIRouter(
    route_class=AuthFirstRoute, prefix="/sequences", tags=["sequences"], responses=PROBLEM_RESPONSES
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SequenceRead,
    summary="Create a sequence (admins)",
)
async def create_sequence(body: SequenceCreate, session: SessionDep, actor: Admin) -> SequenceRead:
    return SequenceRead.model_validate(await sequences.create_sequence(session, actor, body.name))


@router.get("", response_model=PageOf[SequenceRead], summary="List sequences, by id")
async def list_sequences(
    session: SessionDep,
    actor: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=500)] = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOf[SequenceRead]:
    page = await sequences.list_sequences(session, actor, page_request(limit, cursor))
    return PageOf[SequenceRead](
        items=[SequenceRead.model_validate(s) for s in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/{sequence_id}/enrollments",
    status_code=status.HTTP_201_CREATED,
    response_model=EnrollmentRead,
    summary="Enroll a contact",
    description="409 when the contact is enrolled in the sequence already.",
)
async def enroll(
    sequence_id: PathId, body: EnrollmentCreate, session: SessionDep, actor: RecordEditor
) -> EnrollmentRead:
    enrollment = await sequences.enroll(session, actor, sequence_id, body.contact_id, body.user_id)
    return EnrollmentRead.model_validate(enrollment)


@router.delete(
    "/{sequence_id}/enrollments/{contact_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Unenroll a contact",
)
async def unenroll(
    sequence_id: PathId, contact_id: PathId, session: SessionDep, actor: RecordEditor
) -> Response:
    await sequences.unenroll(session, actor, sequence_id, contact_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
