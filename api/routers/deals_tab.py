"""The deals tab (DEAL-1 to DEAL-5) and deal insights (DEAL-6 to DEAL-11): a workspace
feature, so it needs a current seat (PERM-3) and the workspace switched on (PERM-9)."""

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from pydantic import Field

from api.deps import AuthFirstRoute, KnownQuery, SessionDep, WorkspaceOn, WorkspaceUser
from api.problems import PROBLEM_RESPONSES
from api.schemas.deals import DealRead
from api.schemas.deals_tab import (
    ActionLink,
    ActivityItem,
    BasedOn,
    ContactRef,
    DealColumnsIO,
    DealInsightsRead,
    DealListRead,
    DealOverviewRead,
    DealRowRead,
    DealSearchIn,
    EvidenceRead,
    FeedbackIn,
    FeedbackRead,
    GoalRead,
    NextActivity,
    PipelineRef,
    RiskRead,
    ScoreFactorRead,
    ScoreRead,
    StageRef,
    SummaryRead,
    UserRef,
)
from api.schemas.fields import CalendarDate, Cursor, PathId, QueryId
from domain.deal_properties import DealFilter, DealProperty, FilterOp
from domain.deals import DealView
from domain.engagements import Engagement
from services import deal_insights, deal_overviews, deals_tab
from services.deal_overviews import DealOverview
from services.deals_tab import DealList, DealPage
from services.insight_text import NO_SUMMARY, SummaryWriter
from services.pagination import DEFAULT_LIMIT

router = APIRouter(
    route_class=AuthFirstRoute,
    tags=["deals"],
    responses=PROBLEM_RESPONSES,
    dependencies=[WorkspaceOn],
)

AmountBound = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


def _page(page: DealPage) -> DealListRead:
    return DealListRead(
        view=page.view,
        columns=list(page.columns),
        items=[
            DealRowRead.model_validate(
                {**DealRead.model_validate(r.deal).model_dump(), "stage_label": r.stage_label}
            )
            for r in page.page.items
        ],
        next_cursor=page.page.next_cursor,
    )


@router.get(
    "/deals",
    response_model=DealListRead,
    summary="The deals tab: open deals by view, with quick filters (DEAL-1 to DEAL-4)",
    description="The caller's open deals unless `owner_id` names another owner whose deals "
    "the caller may see (PERM-7). `closing_this_month` is the calendar month in the caller's "
    "time zone; `stalled`: longer in the stage than deals usually stay there. A query "
    "parameter the route does not take is a 422, never ignored.",
)
async def list_deals(
    session: SessionDep,
    actor: WorkspaceUser,
    _: KnownQuery,
    view: DealView = DealView.ALL_OPEN,
    owner_id: QueryId = None,
    pipeline_id: QueryId = None,
    stage_id: QueryId = None,
    close_date_from: Annotated[CalendarDate | None, Query()] = None,
    close_date_to: Annotated[CalendarDate | None, Query()] = None,
    amount_min: Annotated[AmountBound | None, Query()] = None,
    amount_max: Annotated[AmountBound | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> DealListRead:
    quick: list[tuple[DealProperty, FilterOp, int | date | Decimal | None]] = [
        (DealProperty.PIPELINE_ID, FilterOp.EQ, pipeline_id),
        (DealProperty.STAGE_ID, FilterOp.EQ, stage_id),
        (DealProperty.CLOSE_DATE, FilterOp.GTE, close_date_from),
        (DealProperty.CLOSE_DATE, FilterOp.LTE, close_date_to),
        (DealProperty.AMOUNT, FilterOp.GTE, amount_min),
        (DealProperty.AMOUNT, FilterOp.LTE, amount_max),
    ]
    request = DealList(
        view=view,
        owner_ids=frozenset({owner_id or actor.id}),
        filters=tuple(DealFilter(p, op, v) for p, op, v in quick if v is not None),
    )
    page = await deals_tab.list_deals(session, actor, request, limit=limit, cursor=cursor)
    return _page(page)


@router.post(
    "/deals:search",
    response_model=DealListRead,
    summary="Advanced deal filters: property, operator, value (DEAL-3)",
    description="An unknown view, property or operator, an operator the property's type does "
    "not take, or a value not of its type is a 422 naming the filter.",
)
async def search_deals(
    body: DealSearchIn, session: SessionDep, actor: WorkspaceUser, _: KnownQuery
) -> DealListRead:
    page = await deals_tab.search_deals(
        session,
        actor,
        deals_tab.DealSearch(
            view=body.view,
            filters=tuple((f.property.value, f.op.value, f.value) for f in body.filters),
            sort=(body.sort.property.value, body.sort.direction.value),
        ),
        limit=body.limit,
        cursor=body.cursor,
    )
    return _page(page)


@router.get("/users/me/deal-columns", response_model=DealColumnsIO, summary="DEAL-4")
async def get_deal_columns(
    session: SessionDep, actor: WorkspaceUser, _: KnownQuery
) -> DealColumnsIO:
    """The caller's deals table columns, in order; the defaults until they choose."""
    return DealColumnsIO(columns=list(await deals_tab.deal_columns(session, actor)))


@router.put("/users/me/deal-columns", response_model=DealColumnsIO, summary="DEAL-4")
async def save_deal_columns(
    body: DealColumnsIO, session: SessionDep, actor: WorkspaceUser, _: KnownQuery
) -> DealColumnsIO:
    """Choose the deals table columns; every list returns them."""
    saved = await deals_tab.save_deal_columns(session, actor, [c.value for c in body.columns])
    return DealColumnsIO(columns=list(saved))


def _item(engagement: Engagement | None) -> ActivityItem | None:
    if engagement is None:
        return None
    return ActivityItem(
        activity_id=engagement.activity_id,
        type=engagement.type,
        occurred_at=engagement.occurred_at,
        summary=engagement.summary(),
    )


def _actions(o: DealOverview) -> list[ActionLink]:
    deal = o.deal
    about = {"deal_id": deal.id, "contact_id": deal.contact_id}
    return [
        ActionLink(
            action="update_stage",
            method="PATCH",
            href=f"/v1/deals/{deal.id}",
            body={"stage_id": deal.stage_id},
        ),
        ActionLink(
            action="edit_close_date",
            method="PATCH",
            href=f"/v1/deals/{deal.id}",
            body={"close_date": deal.close_date.isoformat() if deal.close_date else None},
        ),
        ActionLink(
            action="send_email",
            method="POST",
            href="/v1/activities",
            body={"type": "email_sent", **about, "email": {"subject": "", "body": ""}},
        ),
        ActionLink(
            action="log_call",
            method="POST",
            href="/v1/activities",
            body={"type": "call", **about, "call": {"status": "completed", "outcome": None}},
        ),
        ActionLink(
            action="schedule_meeting",
            method="POST",
            href="/v1/meetings",
            body={
                "title": f"{deal.name}",
                "deal_id": deal.id,
                "contact_ids": [deal.contact_id] if deal.contact_id else [],
            },
        ),
    ]


@router.get(
    "/deals/{deal_id}/overview",
    response_model=DealOverviewRead,
    summary="A deal's overview (DEAL-5)",
    description="Key fields, the last and next activity the caller may see, the contacts, and "
    "`actions`: where to update the stage or close date (`PATCH /v1/deals/{id}`), send an "
    "email or log a call (`POST /v1/activities`), or schedule a meeting (`POST /v1/meetings`).",
)
async def deal_overview(
    deal_id: PathId, session: SessionDep, actor: WorkspaceUser, _: KnownQuery
) -> DealOverviewRead:
    o = await deal_overviews.deal_overview(session, actor, deal_id)
    row = {**DealRead.model_validate(o.deal).model_dump(), "stage_label": o.stage.label}
    contacts = (
        [ContactRef(id=o.contact.id, name=o.contact.display_name, email=o.contact.email)]
        if o.contact is not None
        else []
    )
    nxt = o.next_activity
    return DealOverviewRead(
        deal=DealRowRead.model_validate(row),
        pipeline=PipelineRef(
            id=o.pipeline.id,
            label=o.pipeline.label,
            stages=[StageRef.model_validate(s) for s in o.pipeline.stages],
        ),
        stage=StageRef.model_validate(o.stage),
        owner=UserRef.model_validate(o.owner) if o.owner is not None else None,
        contacts=contacts,
        last_activity=_item(o.last_activity),
        next_activity=NextActivity(kind=nxt.kind, id=nxt.id, title=nxt.title, at=nxt.at)
        if nxt is not None and nxt.kind in ("meeting", "task")
        else None,
        days_in_stage=o.days_in_stage,
        stage_norm_days=round(o.norm.duration.total_seconds() / 86400, 2),
        stage_norm_basis=o.norm.basis,
        stalled=o.stalled,
        actions=_actions(o),
    )


def _summary_writer(request: Request) -> SummaryWriter:
    writer: SummaryWriter = getattr(request.app.state, "summary_writer", None) or NO_SUMMARY
    return writer


@router.get(
    "/deals/{deal_id}/insights",
    response_model=DealInsightsRead,
    summary="Deal insights: recent activity, risks, buyer goals (DEAL-6 to DEAL-10)",
    description="Built by fixed rules from the deal and its 100 most recent meetings, notes, "
    "emails and calls that the caller may see (DEAL-8), every sentence citing the activities "
    "it rests on. 409 `insights-disabled` while the account's customer analysis is off.",
)
async def deal_insights_read(
    deal_id: PathId, request: Request, session: SessionDep, actor: WorkspaceUser, _: KnownQuery
) -> DealInsightsRead:
    read = await deal_insights.deal_insights(
        session, actor, deal_id, writer=_summary_writer(request)
    )
    i = read.insights
    return DealInsightsRead(
        deal_id=i.deal_id,
        recent_activity=[
            ActivityItem(
                activity_id=r.activity_id, type=r.type, occurred_at=r.occurred_at, summary=r.summary
            )
            for r in i.recent
        ],
        risks=[
            RiskRead(
                kind=r.kind,
                text=r.text,
                activity_ids=list(r.activity_ids),
                evidence=[EvidenceRead(kind=e.kind, id=e.id) for e in r.evidence],
            )
            for r in i.risks
        ],
        buyer_goals=[GoalRead(text=g.text, activity_ids=list(g.activity_ids)) for g in i.goals],
        score=ScoreRead(
            value=i.score.value,
            factors=[
                ScoreFactorRead(
                    name=f.name,
                    points=f.points,
                    most=f.most,
                    reason=f.reason,
                    activity_ids=list(f.activity_ids),
                )
                for f in i.score.factors
            ],
        ),
        text=i.text,
        based_on=BasedOn(activities=i.based_on),
        summary=SummaryRead(text=read.summary.text, generated_by=read.summary.generated_by)
        if read.summary is not None
        else None,
    )


@router.post(
    "/deals/{deal_id}/insights/feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedbackRead,
    summary="Helpful or not, with an optional comment (DEAL-11)",
)
async def insight_feedback(
    deal_id: PathId, body: FeedbackIn, session: SessionDep, actor: WorkspaceUser, _: KnownQuery
) -> FeedbackRead:
    feedback = await deal_insights.give_feedback(
        session, actor, deal_id, helpful=body.helpful, comment=body.comment
    )
    return FeedbackRead.model_validate(feedback)
