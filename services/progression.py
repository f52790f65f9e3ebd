"""The progression rules of a pipeline as the lead workflow applies them."""

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import pipelines as pipelines_repo
from domain.automation import AutomationConfig, RuleName
from domain.progression import ProgressionConfig, ProgressionRuleView
from services.automation import get_automation


async def load_progression(session: AsyncSession, pipeline_id: int) -> ProgressionConfig:
    """The outreach and connect rules in force, with their stages' positions (never backwards)."""
    config = await get_automation(session, pipeline_id)
    pipeline = await pipelines_repo.get(session, pipeline_id)
    positions = {s.id: s.position for s in pipeline.stages} if pipeline else {}
    return progression_of(pipeline_id, config, positions, pipeline.is_default if pipeline else None)


def progression_of(
    pipeline_id: int,
    config: AutomationConfig,
    positions: Mapping[int, int],
    is_default: bool | None,
) -> ProgressionConfig:
    """The progression rules of `config` as the lead workflow applies them."""
    rules = []
    for name, rule in (
        (RuleName.ADVANCE_ON_OUTREACH, config.advance_on_outreach),
        (RuleName.ADVANCE_ON_CONNECT, config.advance_on_connect),
    ):
        rules.append(
            ProgressionRuleView(
                name=name.value,
                enabled=rule.enabled,
                from_stage_id=rule.from_stage_id,
                to_stage_id=rule.to_stage_id,
                from_position=positions.get(rule.from_stage_id) if rule.from_stage_id else None,
                to_position=positions.get(rule.to_stage_id) if rule.to_stage_id else None,
                events=tuple(e.value for e in rule.events),
            )
        )
    return ProgressionConfig(pipeline_id=pipeline_id, rules=tuple(rules), is_default=is_default)


async def is_default_pipeline(session: AsyncSession, pipeline_id: int) -> bool:
    """Whether the pipeline is the default one now (AUT-2): what a lead outside the default
    pipeline checks before it needs any rule."""
    return bool(await pipelines_repo.is_default(session, pipeline_id))
