from fastapi import APIRouter

from api.deps import Admin, AuthFirstRoute, CurrentUser, SessionDep
from api.problems import PROBLEM_RESPONSES
from api.schemas.lead_config import LeadSettingsIO
from domain.lead_settings import LeadSettings
from services import lead_settings

router = APIRouter(
    route_class=AuthFirstRoute,
    prefix="/settings/leads",
    tags=["lead configuration"],
    responses=PROBLEM_RESPONSES,
)


@router.get("", response_model=LeadSettingsIO, summary="The account's lead settings")
async def get_settings(session: SessionDep, actor: CurrentUser) -> LeadSettingsIO:
    settings = await lead_settings.read_settings(session)
    return LeadSettingsIO.model_validate(settings.model_dump())


@router.put(
    "",
    response_model=LeadSettingsIO,
    summary="Replace the lead settings (admins)",
    description="All or nothing: a save with any broken rule changes nothing and lists every "
    "broken rule. Stage moves check the settings in force when they are applied.",
)
async def save_settings(body: LeadSettingsIO, session: SessionDep, actor: Admin) -> LeadSettingsIO:
    saved = await lead_settings.save_settings(
        session, actor, LeadSettings.model_validate(body.model_dump())
    )
    return LeadSettingsIO.model_validate(saved.model_dump())
