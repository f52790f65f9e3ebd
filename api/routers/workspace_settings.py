from fastapi import APIRouter

from api.deps import Admin, AuthFirstRoute, CurrentUser, SessionDep
from api.problems import PROBLEM_RESPONSES
from api.schemas.workspace_settings import WorkspaceSettingsIO
from services import workspace_settings
from services.workspace_settings import WorkspaceSettings

router = APIRouter(
    route_class=AuthFirstRoute,
    prefix="/settings/workspace",
    tags=["workspace"],
    responses=PROBLEM_RESPONSES,
)


@router.get("", response_model=WorkspaceSettingsIO, summary="The workspace switch (PERM-9)")
async def get_settings(session: SessionDep, actor: CurrentUser) -> WorkspaceSettingsIO:
    settings = await workspace_settings.read_settings(session, actor)
    return WorkspaceSettingsIO(enabled=settings.enabled)


@router.put(
    "",
    response_model=WorkspaceSettingsIO,
    summary="Switch the workspace on or off (admins)",
    description="Off: the workspace endpoints (tasks, and the workspace views) answer 404.",
)
async def save_settings(
    body: WorkspaceSettingsIO, session: SessionDep, actor: Admin
) -> WorkspaceSettingsIO:
    saved = await workspace_settings.save_settings(
        session, actor, WorkspaceSettings(enabled=body.enabled)
    )
    return WorkspaceSettingsIO(enabled=saved.enabled)
