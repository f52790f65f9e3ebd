"""A stage chain's workflow-level settings (ACT-7): everyone signed in reads them, as the chain;
admins change them (PERM-2)."""

from fastapi import APIRouter

from api.deps import Admin, AuthFirstRoute, CurrentUser, SessionDep
from api.problems import PROBLEM_RESPONSES
from api.schemas.chain_settings import ChainSettingsPatch, ChainSettingsRead
from api.schemas.fields import PathId
from services import chain_settings
from services.chain_settings import ChainSettingsView

router = APIRouter(route_class=AuthFirstRoute, tags=["stage chains"], responses=PROBLEM_RESPONSES)

SETTINGS = "/pipelines/{pipeline_id}/stages/{stage_id}/chain/settings"


def _read(view: ChainSettingsView) -> ChainSettingsRead:
    s = view.settings
    return ChainSettingsRead(
        pipeline_id=view.pipeline_id,
        stage_id=view.stage_id,
        workflow_id=view.workflow_id,
        version=view.version,
        name=view.name,
        enabled=s.enabled,
        re_enrollment=s.re_enrollment,
        days=s.days,
        window=s.window,
        on_leave=s.on_leave,
        created_at=view.created_at,
        created_by_id=view.created_by_id,
    )


@router.get(SETTINGS, response_model=ChainSettingsRead)
async def get_chain_settings(
    pipeline_id: PathId, stage_id: PathId, session: SessionDep, actor: CurrentUser
) -> ChainSettingsRead:
    """The chain's id and settings in force: name, enabled, re-enrollment, execution window,
    what a run does when its lead leaves the stage."""
    return _read(await chain_settings.get_settings(session, actor, pipeline_id, stage_id))


@router.patch(SETTINGS, response_model=ChainSettingsRead)
async def patch_chain_settings(
    pipeline_id: PathId,
    stage_id: PathId,
    body: ChainSettingsPatch,
    session: SessionDep,
    actor: Admin,
) -> ChainSettingsRead:
    """Change some settings: a new chain version with the same actions (none when nothing
    changes). Runs already going keep the settings they started with; a 422 names each broken
    field (`days`, `window.end`, `window.time_zone`)."""
    changes = body.model_dump(mode="json", exclude_unset=True)
    view = await chain_settings.patch_settings(session, actor, pipeline_id, stage_id, changes)
    return _read(view)
