from fastapi import APIRouter

from api.deps import Admin, AuthFirstRoute, CurrentUser, SessionDep
from api.problems import PROBLEM_RESPONSES
from api.schemas.deals_tab import AiSettingsIO
from services import ai_settings
from services.ai_settings import AiSettings

router = APIRouter(
    route_class=AuthFirstRoute, prefix="/settings/ai", tags=["deals"], responses=PROBLEM_RESPONSES
)


@router.get("", response_model=AiSettingsIO, summary="The AI-assistant settings (DEAL-9)")
async def get_settings(session: SessionDep, actor: CurrentUser) -> AiSettingsIO:
    settings = await ai_settings.read_settings(session, actor)
    return AiSettingsIO(customer_analysis=settings.customer_analysis)


@router.put(
    "",
    response_model=AiSettingsIO,
    summary="Switch customer analysis on or off (admins)",
    description="Off: deal insights and their feedback answer 409 `insights-disabled`.",
)
async def save_settings(body: AiSettingsIO, session: SessionDep, actor: Admin) -> AiSettingsIO:
    saved = await ai_settings.save_settings(
        session, actor, AiSettings(customer_analysis=body.customer_analysis)
    )
    return AiSettingsIO(customer_analysis=saved.customer_analysis)
