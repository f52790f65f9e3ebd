"""Stage action chains (ACT-*): admins edit them (PERM-2); everyone signed in reads them."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import Admin, AuthFirstRoute, CurrentUser, SessionDep, SettingsDep
from api.problems import PROBLEM_RESPONSES
from api.schemas.chains import (
    ActionInsert,
    ActionPatch,
    ChainRead,
    ChainRunRead,
    ChainStepRead,
    ChainWrite,
    CommentIn,
    CommentRead,
    DryRunIn,
    DryRunRead,
)
from api.schemas.common import PageOf
from api.schemas.fields import ActionIdPath, Cursor, PathId
from domain.chains import DeleteMode
from services import chain_runs, chains
from services.chains import ChainView
from services.pagination import DEFAULT_LIMIT, page_request

router = APIRouter(route_class=AuthFirstRoute, tags=["stage chains"], responses=PROBLEM_RESPONSES)

CHAIN = "/pipelines/{pipeline_id}/stages/{stage_id}/chain"


def _read(view: ChainView) -> ChainRead:
    return ChainRead.model_validate(view)


@router.get(CHAIN, response_model=ChainRead, response_model_exclude_none=True)
async def get_chain(
    pipeline_id: PathId, stage_id: PathId, session: SessionDep, actor: CurrentUser
) -> ChainRead:
    """The chain in force (version 0 with no actions until one is saved), with comments."""
    return _read(await chains.get_chain(session, actor, pipeline_id, stage_id))


@router.put(CHAIN, response_model=ChainRead, response_model_exclude_none=True)
async def put_chain(
    pipeline_id: PathId,
    stage_id: PathId,
    body: ChainWrite,
    session: SessionDep,
    actor: Admin,
    settings: SettingsDep,
) -> ChainRead:
    """Replace the chain: a new version. Runs already going keep the version they started
    with; a 422 lists each broken field by path (`actions.1.config.then.0.config.duration`).
    Webhook URLs must have public hosts (rule `public_address`)."""
    view = await chains.put_chain(
        session,
        actor,
        pipeline_id,
        stage_id,
        body.actions,
        webhook_targets=settings.webhook_allow_list,
    )
    return _read(view)


@router.post(
    f"{CHAIN}/actions",
    status_code=status.HTTP_201_CREATED,
    response_model=ChainRead,
    response_model_exclude_none=True,
)
async def insert_action(
    pipeline_id: PathId,
    stage_id: PathId,
    body: ActionInsert,
    session: SessionDep,
    actor: Admin,
    settings: SettingsDep,
) -> ChainRead:
    """Add an action at a position (the end by default) or inside a branch (ACT-3); answers
    the new version with `action_id` set to the new action."""
    view = await chains.insert_action(
        session,
        actor,
        pipeline_id,
        stage_id,
        body.action.model_dump(),
        position=body.position,
        parent_action_id=body.parent_action_id,
        branch=body.branch,
        webhook_targets=settings.webhook_allow_list,
    )
    return _read(view)


@router.patch(
    f"{CHAIN}/actions/{{action_id}}", response_model=ChainRead, response_model_exclude_none=True
)
async def patch_action(
    pipeline_id: PathId,
    stage_id: PathId,
    action_id: ActionIdPath,
    body: ActionPatch,
    session: SessionDep,
    actor: Admin,
    settings: SettingsDep,
) -> ChainRead:
    """Change an action's configuration (ACT-4): a new version."""
    view = await chains.patch_action(
        session,
        actor,
        pipeline_id,
        stage_id,
        action_id,
        body.config,
        webhook_targets=settings.webhook_allow_list,
    )
    return _read(view)


@router.delete(
    f"{CHAIN}/actions/{{action_id}}", response_model=ChainRead, response_model_exclude_none=True
)
async def delete_action(
    pipeline_id: PathId,
    stage_id: PathId,
    action_id: ActionIdPath,
    session: SessionDep,
    actor: Admin,
    mode: Annotated[
        DeleteMode,
        Query(description="`only` this action, or this one and all `following` in its list"),
    ] = DeleteMode.ONLY,
) -> ChainRead:
    """Delete an action (ACT-6): a new version."""
    return _read(await chains.delete_action(session, actor, pipeline_id, stage_id, action_id, mode))


@router.post(
    f"{CHAIN}/actions/{{action_id}}/comments",
    status_code=status.HTTP_201_CREATED,
    response_model=CommentRead,
    response_model_exclude_none=True,
)
async def add_comment(
    pipeline_id: PathId,
    stage_id: PathId,
    action_id: ActionIdPath,
    body: CommentIn,
    session: SessionDep,
    actor: Admin,
) -> CommentRead:
    """Comment on an action (ACT-5); comments show on the action in every later version."""
    action, comment = await chains.add_comment(
        session, actor, pipeline_id, stage_id, action_id, body.text
    )
    return CommentRead(action_id=action, **comment.model_dump())


@router.post(f"{CHAIN}:dry-run", response_model=DryRunRead)
async def dry_run(
    pipeline_id: PathId, stage_id: PathId, body: DryRunIn, session: SessionDep, actor: CurrentUser
) -> DryRunRead:
    """What the chain in force would do to the lead if it entered the stage now, step by step,
    with why (branch decisions) and how long (delays). Changes nothing."""
    run = await chains.dry_run(session, actor, pipeline_id, stage_id, body.lead_id)
    return DryRunRead.model_validate(run)


@router.get("/leads/{lead_id}/chains", response_model=PageOf[ChainRunRead])
async def lead_chain_runs(
    lead_id: PathId,
    session: SessionDep,
    actor: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=500)] = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOf[ChainRunRead]:
    """The lead's chain runs, oldest first: version, status, times, and each step's status,
    times, result and error (URL credentials masked for non-admins)."""
    page = await chain_runs.list_runs(session, actor, lead_id, page_request(limit, cursor))
    return PageOf[ChainRunRead](
        items=[
            ChainRunRead(
                id=r.run.id,
                workflow_id=r.run.workflow_id,
                pipeline_id=r.run.pipeline_id,
                stage_id=r.run.stage_id,
                version=r.run.version,
                status=r.run.status,
                started_at=r.run.started_at,
                ended_at=r.run.ended_at,
                steps=[ChainStepRead.model_validate(s) for s in r.steps],
            )
            for r in page.items
        ],
        next_cursor=page.next_cursor,
    )
