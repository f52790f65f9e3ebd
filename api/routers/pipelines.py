from fastapi import APIRouter, Response, status

from api.deps import Admin, AuthFirstRoute, CurrentUser, SessionDep
from api.problems import PROBLEM_RESPONSES
from api.schemas.automation import AutomationIO
from api.schemas.fields import PathId
from api.schemas.lead_config import OrderIn
from api.schemas.pipelines import (
    PipelineCreate,
    PipelineRead,
    PipelineUpdate,
    StageCreate,
    StageRead,
    StagesSave,
    StageUpdate,
)
from domain.automation import AutomationConfig
from domain.lead_settings import CreateLeadOnLifecycle
from domain.stages import PipelineObject, StageSpec
from services import automation, pipelines, stages
from services.automation import AutomationView
from services.pipelines import NewPipeline, PipelineChanges
from services.stages import NewStage, StageEdit

router = APIRouter(
    route_class=AuthFirstRoute, prefix="/pipelines", tags=["pipelines"], responses=PROBLEM_RESPONSES
)


@router.get("", response_model=list[PipelineRead], summary="Pipelines, with their stages in order")
async def list_pipelines(
    session: SessionDep, actor: CurrentUser, object: PipelineObject | None = None
) -> list[PipelineRead]:
    return [PipelineRead.model_validate(p) for p in await pipelines.list_pipelines(session, object)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PipelineRead,
    summary="Create a pipeline with its stages (admins); never the default",
)
async def create_pipeline(body: PipelineCreate, session: SessionDep, actor: Admin) -> PipelineRead:
    data = NewPipeline(
        object=body.object,
        label=body.label,
        stages=[StageSpec(s.label, s.kind) for s in body.stages],
    )
    return PipelineRead.model_validate(await pipelines.create_pipeline(session, actor, data))


@router.get("/{pipeline_id}", response_model=PipelineRead)
async def get_pipeline(
    pipeline_id: PathId, session: SessionDep, actor: CurrentUser
) -> PipelineRead:
    return PipelineRead.model_validate(await pipelines.get_pipeline(session, pipeline_id))


@router.patch(
    "/{pipeline_id}",
    response_model=PipelineRead,
    summary="Rename a pipeline or make it the default (admins)",
)
async def update_pipeline(
    pipeline_id: PathId, body: PipelineUpdate, session: SessionDep, actor: Admin
) -> PipelineRead:
    changes = PipelineChanges(label=body.label, is_default=body.is_default)
    pipeline = await pipelines.update_pipeline(session, actor, pipeline_id, changes)
    return PipelineRead.model_validate(pipeline)


@router.delete(
    "/{pipeline_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a pipeline (admins); not the default one, nor one with leads or deals",
)
async def delete_pipeline(pipeline_id: PathId, session: SessionDep, actor: Admin) -> Response:
    await pipelines.delete_pipeline(session, actor, pipeline_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{pipeline_id}/stages",
    status_code=status.HTTP_201_CREATED,
    response_model=StageRead,
    summary="Add a stage to its kind group (admins)",
)
async def add_stage(
    pipeline_id: PathId, body: StageCreate, session: SessionDep, actor: Admin
) -> StageRead:
    data = NewStage(label=body.label, kind=body.kind, position=body.position)
    return StageRead.model_validate(await stages.add_stage(session, actor, pipeline_id, data))


@router.put(
    "/{pipeline_id}/stages",
    response_model=PipelineRead,
    summary="Save the whole stage list at once (admins): renames, additions, deletions, order",
    description="All or nothing (STG-8). A stage with an `id` is kept (renamed when its label "
    "differs), one without is added, and a stage left out is deleted. The single edits' rules "
    "apply: 422 for an empty or repeated label, a kind group missing or split, a kind change or "
    "an id of another pipeline; 409 when a stage to delete holds leads or deals or an "
    "automation rule uses it, or when the new order would make an enabled progression rule "
    "move leads backwards (the rule is named).",
)
async def save_stages(
    pipeline_id: PathId, body: StagesSave, session: SessionDep, actor: Admin
) -> PipelineRead:
    edits = [StageEdit(label=s.label, id=s.id, kind=s.kind) for s in body.stages]
    return PipelineRead.model_validate(await stages.save_stages(session, actor, pipeline_id, edits))


@router.put(
    "/{pipeline_id}/stages/order",
    response_model=PipelineRead,
    summary="Reorder the stages within their kind groups (admins)",
)
async def reorder_stages(
    pipeline_id: PathId, body: OrderIn, session: SessionDep, actor: Admin
) -> PipelineRead:
    pipeline = await stages.reorder_stages(session, actor, pipeline_id, body.ids)
    return PipelineRead.model_validate(pipeline)


@router.patch(
    "/{pipeline_id}/stages/{stage_id}",
    response_model=StageRead,
    summary="Rename a stage (admins); its id, kind, position and leads stay",
)
async def rename_stage(
    pipeline_id: PathId,
    stage_id: PathId,
    body: StageUpdate,
    session: SessionDep,
    actor: Admin,
) -> StageRead:
    stage = await stages.rename_stage(session, actor, pipeline_id, stage_id, body.label)
    return StageRead.model_validate(stage)


@router.delete(
    "/{pipeline_id}/stages/{stage_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a stage (admins)",
    description="Refused (409) while the stage holds leads, for the last stage of a kind, and "
    "while an automation rule uses it. Lead history keeps naming a deleted stage.",
)
async def delete_stage(
    pipeline_id: PathId, stage_id: PathId, session: SessionDep, actor: Admin
) -> Response:
    await stages.delete_stage(session, actor, pipeline_id, stage_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{pipeline_id}/automation",
    response_model=AutomationIO,
    summary="The templated automation rules of a lead pipeline",
)
async def get_automation(
    pipeline_id: PathId, session: SessionDep, actor: CurrentUser
) -> AutomationIO:
    return _automation_io(await automation.read_automation(session, pipeline_id))


@router.put(
    "/{pipeline_id}/automation",
    response_model=AutomationIO,
    summary="Replace the templated automation rules of a lead pipeline (admins)",
    description="The rules always exist: switch one off with `enabled: false` (it keeps its "
    "parameters). Progression rules move leads between open stages of this pipeline, on a "
    "non-empty subset of their own events.",
)
async def save_automation(
    pipeline_id: PathId, body: AutomationIO, session: SessionDep, actor: Admin
) -> AutomationIO:
    config = AutomationConfig.model_validate(body.model_dump(exclude={"create_lead_on_lifecycle"}))
    lifecycle = (
        CreateLeadOnLifecycle.model_validate(body.create_lead_on_lifecycle.model_dump())
        if body.create_lead_on_lifecycle is not None
        else None
    )
    view = await automation.save_automation(session, actor, pipeline_id, config, lifecycle)
    return _automation_io(view)


def _automation_io(view: AutomationView) -> AutomationIO:
    lifecycle = view.create_lead_on_lifecycle
    return AutomationIO.model_validate(
        {
            **view.config.model_dump(),
            "create_lead_on_lifecycle": lifecycle.model_dump() if lifecycle else None,
        }
    )
