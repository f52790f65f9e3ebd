"""The account's AI-assistant settings: `customer_analysis` switches deal insights on or off
(DEAL-9). On by default: insights are built by fixed rules inside Leadpipe, and nothing leaves
it unless a text provider is plugged in (services/insight_text.py)."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AiSettingsRow, User
from db.repositories import insights as insights_repo
from domain.errors import InsightsDisabled
from domain.roles import ADMINS, EVERYONE
from services import audit
from services.account_switches import save_switch
from services.auth import require_role


@dataclass(frozen=True)
class AiSettings:
    customer_analysis: bool = True


async def require_customer_analysis(session: AsyncSession) -> None:
    """Raises InsightsDisabled (409) while the account has customer analysis off."""
    if not await insights_repo.customer_analysis_on(session):
        raise InsightsDisabled(
            "deal insights need the AI assistant's customer analysis setting: "
            "an admin turns it on with PUT /v1/settings/ai"
        )


async def read_settings(session: AsyncSession, actor: User) -> AiSettings:
    require_role(actor, EVERYONE, "reading the AI settings")
    return AiSettings(customer_analysis=await insights_repo.customer_analysis_on(session))


async def save_settings(session: AsyncSession, actor: User, settings: AiSettings) -> AiSettings:
    """Replace the settings. Raises Forbidden (not an admin)."""
    require_role(actor, ADMINS, "changing the AI settings")
    async with session.begin():
        await save_switch(
            session,
            actor,
            AiSettingsRow,
            "customer_analysis",
            settings.customer_analysis,
            audit.Entity.AI_SETTINGS,
        )
    return settings
