from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import ValidationError

from api.deps import AuthFirstRoute, CurrentUser, OrchestratorDep, SessionDep, SessionFactoryDep
from api.problems import PROBLEM_RESPONSES, field_errors
from api.schemas.activities import (
    ActivityBatchIn,
    ActivityBatchResult,
    ActivityIn,
    ActivityRead,
    BatchItemResult,
)
from api.schemas.common import PageOf
from api.schemas.fields import Cursor, QueryId
from db.repositories.activities import ActivityFilter
from domain.activities import ActivityType
from services import activities, activity_batches
from services.activities import NewActivity
from services.pagination import DEFAULT_LIMIT

router = APIRouter(route_class=AuthFirstRoute, tags=["activities"], responses=PROBLEM_RESPONSES)


def _new(body: ActivityIn) -> NewActivity:
    return NewActivity(
        event_id=body.event_id,
        type=body.type.value,
        occurred_at=body.occurred_at,
        user_id=body.user_id,
        contact_id=body.contact_id,
        lead_id=body.lead_id,
        deal_id=body.deal_id,
        company_id=body.company_id,
        details=body.details(),
        given=body.meeting_fields_given(),
    )


@router.post(
    "/activities",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ActivityRead,
    summary="Post one sales activity",
    description="Stored once per `event_id` (a repeat returns the first result), then delivered "
    "to the lead's workflow, or to the open leads of the named contact.",
)
async def post_activity(
    body: ActivityIn,
    session_factory: SessionFactoryDep,
    orchestrator: OrchestratorDep,
    actor: CurrentUser,
) -> ActivityRead:
    recorded = await activities.record_activity(session_factory, orchestrator, actor, _new(body))
    return ActivityRead.model_validate(recorded.activity)


@router.get(
    "/activities",
    response_model=PageOf[ActivityRead],
    summary="The activity timeline, newest first",
    description="Filtered by record and type, and by the caller's activity visibility "
    "(`permissions.activities: owned` shows only the activities they logged).",
)
async def list_activities(
    session: SessionDep,
    actor: CurrentUser,
    lead_id: QueryId = None,
    contact_id: QueryId = None,
    deal_id: QueryId = None,
    company_id: QueryId = None,
    activity_type: Annotated[ActivityType | None, Query(alias="type")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOf[ActivityRead]:
    page = await activities.list_activities(
        session,
        actor,
        ActivityFilter(
            lead_id=lead_id,
            contact_id=contact_id,
            deal_id=deal_id,
            company_id=company_id,
            type=activity_type.value if activity_type else None,
        ),
        limit=limit,
        cursor=cursor,
    )
    return PageOf[ActivityRead](
        items=[ActivityRead.model_validate(a) for a in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/activities:batch",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ActivityBatchResult,
    summary="Post up to 500 activities; one result per item, in order",
)
async def post_batch(
    body: ActivityBatchIn,
    session_factory: SessionFactoryDep,
    orchestrator: OrchestratorDep,
    actor: CurrentUser,
) -> ActivityBatchResult:
    results: dict[int, BatchItemResult] = {}
    valid: list[tuple[int, NewActivity]] = []
    for index, raw in enumerate(body.activities):
        try:
            valid.append((index, _new(ActivityIn.model_validate(raw))))
        except ValidationError as err:
            errors = field_errors(err.errors(), prefix=("activities", index))
            detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
            results[index] = BatchItemResult(index=index, status=422, detail=detail, errors=errors)
    stored = await activity_batches.record_batch(
        session_factory, orchestrator, actor, [item for _, item in valid]
    )
    for (index, _), item in zip(valid, stored, strict=True):
        if item.recorded is not None:
            activity = ActivityRead.model_validate(item.recorded.activity)
            results[index] = BatchItemResult(index=index, status=202, activity=activity)
        else:
            assert item.error is not None
            results[index] = BatchItemResult(
                index=index,
                status=item.error.status,
                detail=item.error.detail,
                errors=[e.__dict__ for e in item.error.errors],
            )
    return ActivityBatchResult(results=[results[i] for i in sorted(results)])
