"""Meetings and calls as records (WS-11, WS-12): their owner's, and every admin's to see."""

from fastapi import APIRouter, status

from api.deps import AuthFirstRoute, OrchestratorDep, RecordEditor, SessionDep, SessionFactoryDep
from api.problems import PROBLEM_RESPONSES
from api.schemas.fields import PathId
from api.schemas.meetings import (
    CallOutcomeIn,
    CallRead,
    MeetingCreate,
    MeetingOutcomeIn,
    MeetingRead,
)
from services import meetings
from services.meetings import MeetingView

router = APIRouter(
    route_class=AuthFirstRoute, tags=["meetings and calls"], responses=PROBLEM_RESPONSES
)


def _read(view: MeetingView) -> MeetingRead:
    return MeetingRead.model_validate(
        {
            **{
                name: getattr(view.meeting, name)
                for name in MeetingRead.model_fields
                if name != "contact_ids"
            },
            "contact_ids": view.contact_ids,
        }
    )


@router.post(
    "/meetings",
    status_code=status.HTTP_201_CREATED,
    response_model=MeetingRead,
    summary="Create a meeting by hand",
    description="Posts the `meeting` activity it stands for to the lead's workflow, like a "
    "calendar's would be (scheduling a meeting is outreach, AUT-3). Calendar meetings come "
    "as `meeting` activities (`POST /activities`).",
)
async def create_meeting(
    body: MeetingCreate,
    session_factory: SessionFactoryDep,
    orchestrator: OrchestratorDep,
    actor: RecordEditor,
) -> MeetingRead:
    view = await meetings.create_meeting(session_factory, orchestrator, actor, body.model_dump())
    return _read(view)


@router.get(
    "/meetings/{meeting_id}",
    response_model=MeetingRead,
    summary="A meeting, with everything about it (WS-11)",
    description="Its owner's and admins'; anyone else gets 404.",
)
async def get_meeting(meeting_id: PathId, session: SessionDep, actor: RecordEditor) -> MeetingRead:
    return _read(await meetings.get_meeting(session, actor, meeting_id))


@router.post(
    "/meetings/{meeting_id}/outcome",
    response_model=MeetingRead,
    summary="Set a meeting's outcome (WS-12)",
    description="Reaches the lead's workflow as a `meeting` activity with its own event id "
    "(`leadpipe/meeting-outcome-<id>-<n>`). Setting the outcome the meeting has changes "
    "nothing.",
)
async def set_meeting_outcome(
    meeting_id: PathId,
    body: MeetingOutcomeIn,
    session_factory: SessionFactoryDep,
    orchestrator: OrchestratorDep,
    actor: RecordEditor,
) -> MeetingRead:
    view = await meetings.set_meeting_outcome(
        session_factory, orchestrator, actor, meeting_id, body.outcome
    )
    return _read(view)


@router.get("/calls/{call_id}", response_model=CallRead, summary="A call")
async def get_call(call_id: PathId, session: SessionDep, actor: RecordEditor) -> CallRead:
    return CallRead.model_validate(await meetings.get_call(session, actor, call_id))


@router.post(
    "/calls/{call_id}/outcome",
    response_model=CallRead,
    summary="Log a call's outcome later",
    description="Reaches the lead's workflow as a `call` activity with its own event id "
    "(`leadpipe/call-outcome-<id>-<n>`): `connected` moves the lead along the connect rule "
    "(AUT-4).",
)
async def set_call_outcome(
    call_id: PathId,
    body: CallOutcomeIn,
    session_factory: SessionFactoryDep,
    orchestrator: OrchestratorDep,
    actor: RecordEditor,
) -> CallRead:
    call = await meetings.set_call_outcome(
        session_factory, orchestrator, actor, call_id, body.outcome, status=body.status
    )
    return CallRead.model_validate(call)
