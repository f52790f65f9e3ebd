"""Templated pipeline automation (AUT-1, AUT-5, AUT-6, AUT-10): stored per lead pipeline."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Pipeline, PipelineAutomation, Stage, User
from db.repositories import automation as automation_repo
from db.repositories import lead_config as config_repo
from db.repositories import pipelines as pipelines_repo
from domain.automation import (
    AutomationConfig,
    FollowUpRule,
    ProgressionEvent,
    ProgressionRule,
    RuleName,
    StageRef,
    default_config,
    validate_config,
)
from domain.errors import FieldError, InvalidInput, NotFound
from domain.lead_settings import CreateLeadOnLifecycle
from domain.roles import ADMINS
from domain.stages import PipelineObject, StageKind
from services import audit
from services.auth import require_role
from services.lead_settings import load_settings


@dataclass(frozen=True)
class AutomationView:
    """A pipeline's rules as the API shows them; the lifecycle rule only on the default one."""

    pipeline_id: int
    config: AutomationConfig
    create_lead_on_lifecycle: CreateLeadOnLifecycle | None


async def get_automation(session: AsyncSession, pipeline_id: int) -> AutomationConfig:
    """The templated rules of a lead pipeline, read in the caller's transaction.

    Removed disqualification reasons are left out of the follow-up rule (DIS-8). This is what
    the lead workflow's activities read. Raises NotFound when there is no such lead pipeline.
    """
    row = await automation_repo.get(session, pipeline_id)
    if row is None:
        pipeline = await _lead_pipeline(session, pipeline_id)
        # Every lead pipeline gets its row when created; this only covers a missing one.
        return default_config(stage_refs(pipeline.stages))
    active = {r.id for r in await config_repo.active_reasons(session)}
    return _to_config(row, active)


async def read_automation(session: AsyncSession, pipeline_id: int) -> AutomationView:
    async with session.begin():
        pipeline = await _lead_pipeline(session, pipeline_id)
        return await _view(session, pipeline, await get_automation(session, pipeline_id))


async def save_automation(
    session: AsyncSession,
    actor: User,
    pipeline_id: int,
    config: AutomationConfig,
    create_lead_on_lifecycle: CreateLeadOnLifecycle | None = None,
) -> AutomationView:
    """Replace the pipeline's rules as a whole; a rule switched off keeps its parameters.

    `create_lead_on_lifecycle` is read-only here (it is saved with the lead settings, SET-7): it
    may be sent back unchanged. Raises Forbidden, NotFound, InvalidInput listing every broken
    rule (AUT-6, AUT-10).
    """
    require_role(actor, ADMINS, "changing pipeline automation")
    async with session.begin():
        pipeline = await _lead_pipeline(session, pipeline_id, for_update=True)
        errors = await config_errors(session, pipeline, config, create_lead_on_lifecycle)
        if errors:
            raise InvalidInput("; ".join(e.message for e in errors), errors)
        reasons = {r.id for r in await config_repo.active_reasons(session)}
        row = await automation_repo.get(session, pipeline_id, for_update=True)
        if row is None:
            row = await automation_repo.add(session, _new_row(pipeline_id, config))
            before = None
        else:
            before = _to_config(row, reasons).model_dump(mode="json")
        _write(row, config)
        await audit.record(
            session,
            actor,
            audit.Entity.PIPELINE_AUTOMATION,
            pipeline_id,
            audit.Action.UPDATE,
            before=before,
            after=config.model_dump(mode="json"),
        )
        return await _view(session, pipeline, config)


async def config_errors(
    session: AsyncSession,
    pipeline: Pipeline,
    config: AutomationConfig,
    create_lead_on_lifecycle: CreateLeadOnLifecycle | None = None,
) -> list[FieldError]:
    """Every broken rule of `config` for the pipeline as saving it checks them (AUT-6,
    AUT-10), read in the caller's transaction."""
    lead_types = {t.key for t in await config_repo.active_lead_types(session)}
    reasons = {r.id for r in await config_repo.active_reasons(session)}
    errors = validate_config(config, stage_refs(pipeline.stages), lead_types, reasons)
    if create_lead_on_lifecycle is not None:
        current = (await load_settings(session)).create_lead_on_lifecycle
        if not pipeline.is_default or create_lead_on_lifecycle != current:
            message = (
                "create_lead_on_lifecycle is read-only here: change it with "
                "PUT /v1/settings/leads (it applies to the default pipeline)"
            )
            errors.append(FieldError("create_lead_on_lifecycle", "read_only", message))
    return errors


async def lead_pipeline(session: AsyncSession, pipeline_id: int) -> Pipeline:
    """The lead pipeline, read in the caller's transaction. Raises NotFound."""
    return await _lead_pipeline(session, pipeline_id)


async def add_defaults(session: AsyncSession, pipeline_id: int, stages: Iterable[Stage]) -> None:
    """Give a new lead pipeline its templated rules (AUT-1), in the caller's transaction."""
    await automation_repo.add(session, _new_row(pipeline_id, default_config(stage_refs(stages))))


async def rules_using_stage(session: AsyncSession, stage_id: int) -> list[str]:
    """The rules whose parameters name the stage, e.g. `advance_on_outreach (from stage)`."""
    used: list[str] = []
    for row in await automation_repo.using_stage(session, stage_id):
        for name, column, end in (
            (RuleName.ADVANCE_ON_OUTREACH, row.outreach_from_stage_id, "from"),
            (RuleName.ADVANCE_ON_OUTREACH, row.outreach_to_stage_id, "to"),
            (RuleName.ADVANCE_ON_CONNECT, row.connect_from_stage_id, "from"),
            (RuleName.ADVANCE_ON_CONNECT, row.connect_to_stage_id, "to"),
        ):
            if column == stage_id:
                used.append(f"{name.value} ({end} stage)")
    return used


async def drop_reason(session: AsyncSession, actor: User, reason_id: int) -> None:
    """DIS-8: a removed reason leaves every follow-up rule; a rule left with none switches off."""
    for row in await automation_repo.using_reason(session, reason_id, for_update=True):
        before = _to_config(row, set(row.follow_up_reason_ids)).model_dump(mode="json")
        row.follow_up_reason_ids = [r for r in row.follow_up_reason_ids if r != reason_id]
        if not row.follow_up_reason_ids:
            row.follow_up_enabled = False
        after = _to_config(row, set(row.follow_up_reason_ids)).model_dump(mode="json")
        await audit.record(
            session,
            actor,
            audit.Entity.PIPELINE_AUTOMATION,
            row.pipeline_id,
            audit.Action.UPDATE,
            before=before,
            after=after,
        )


async def pipelines_using_lead_type(session: AsyncSession, key: str) -> list[int]:
    return [row.pipeline_id for row in await automation_repo.using_lead_type(session, key)]


def stage_refs(stages: Iterable[Stage]) -> list[StageRef]:
    return [StageRef(id=s.id, kind=StageKind(s.kind)) for s in stages]


async def _lead_pipeline(
    session: AsyncSession, pipeline_id: int, *, for_update: bool = False
) -> Pipeline:
    pipeline = await pipelines_repo.get(session, pipeline_id, for_update=for_update)
    if pipeline is None:
        raise NotFound(f"pipeline {pipeline_id} does not exist")
    if pipeline.object != PipelineObject.LEAD:
        raise NotFound(f"pipeline {pipeline_id} is a deal pipeline; automation is for lead ones")
    return pipeline


async def _view(
    session: AsyncSession, pipeline: Pipeline, config: AutomationConfig
) -> AutomationView:
    lifecycle = (await load_settings(session)).create_lead_on_lifecycle
    return AutomationView(pipeline.id, config, lifecycle if pipeline.is_default else None)


def _to_config(row: PipelineAutomation, active_reasons: set[int]) -> AutomationConfig:
    return AutomationConfig(
        follow_up_on_disqualify=FollowUpRule(
            enabled=row.follow_up_enabled,
            lead_type=row.follow_up_lead_type,
            reason_ids=tuple(r for r in row.follow_up_reason_ids if r in active_reasons),
        ),
        advance_on_outreach=ProgressionRule(
            enabled=row.outreach_enabled,
            from_stage_id=row.outreach_from_stage_id,
            to_stage_id=row.outreach_to_stage_id,
            events=tuple(ProgressionEvent(e) for e in row.outreach_events),
        ),
        advance_on_connect=ProgressionRule(
            enabled=row.connect_enabled,
            from_stage_id=row.connect_from_stage_id,
            to_stage_id=row.connect_to_stage_id,
            events=tuple(ProgressionEvent(e) for e in row.connect_events),
        ),
    )


def _new_row(pipeline_id: int, config: AutomationConfig) -> PipelineAutomation:
    row = PipelineAutomation(pipeline_id=pipeline_id)
    _write(row, config)
    return row


def _write(row: PipelineAutomation, config: AutomationConfig) -> None:
    follow_up = config.follow_up_on_disqualify
    row.follow_up_enabled = follow_up.enabled
    row.follow_up_lead_type = follow_up.lead_type
    row.follow_up_reason_ids = list(follow_up.reason_ids)
    outreach, connect = config.advance_on_outreach, config.advance_on_connect
    row.outreach_enabled = outreach.enabled
    row.outreach_from_stage_id = outreach.from_stage_id
    row.outreach_to_stage_id = outreach.to_stage_id
    row.outreach_events = [e.value for e in outreach.events]
    row.connect_enabled = connect.enabled
    row.connect_from_stage_id = connect.from_stage_id
    row.connect_to_stage_id = connect.to_stage_id
    row.connect_events = [e.value for e in connect.events]
