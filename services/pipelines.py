"""Pipelines (STG-1, STG-2): list, create with their stages, rename or make default, delete;
the pipeline row lock, read-back and audit shape that the stage edits of services/stages.py share.

Each use case is one transaction that first locks the pipeline row, so concurrent edits of one
pipeline and its stages apply one after the other and each request saves whole or not at all
(STG-8).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Pipeline, Stage, User
from db.repositories import pipelines as pipelines_repo
from domain.errors import Conflict, NotFound, invalid
from domain.roles import ADMINS
from domain.stages import PipelineObject, StageSpec, kinds_for
from services import audit, automation, outbox
from services.auth import require_role
from services.stage_rules import check_stage_list, require_label


@dataclass(frozen=True)
class NewPipeline:
    object: PipelineObject
    label: str
    stages: Sequence[StageSpec]


@dataclass(frozen=True)
class PipelineChanges:
    label: str | None = None
    is_default: bool | None = None


async def list_pipelines(session: AsyncSession, obj: PipelineObject | None) -> Sequence[Pipeline]:
    async with session.begin():
        return await pipelines_repo.list_pipelines(session, obj.value if obj else None)


async def get_pipeline(session: AsyncSession, pipeline_id: int) -> Pipeline:
    pipeline = await pipelines_repo.get(session, pipeline_id)
    if pipeline is None:
        raise NotFound(f"pipeline {pipeline_id} does not exist")
    return pipeline


async def create_pipeline(session: AsyncSession, actor: User, data: NewPipeline) -> Pipeline:
    """Create a pipeline with its stages, grouped by kind in the order given; never the default.

    A lead pipeline also gets its templated automation. Raises Forbidden, InvalidInput (empty
    or repeated label, a kind the object does not use, a kind group left empty), Conflict (the
    label is taken).
    """
    require_role(actor, ADMINS, "creating pipelines")
    label = require_label(data.label, "label")
    allowed = kinds_for(data.object)
    check_stage_list(data.object, data.stages)
    async with session.begin():
        if await pipelines_repo.get_by_label(session, data.object.value, label) is not None:
            raise Conflict(f"a {data.object.value} pipeline named {label!r} already exists")
        pipeline = await pipelines_repo.add(
            session, Pipeline(object=data.object.value, label=label, is_default=False)
        )
        # Grouped open, then the closing kinds (order kept within a group): positions are global,
        # so "earlier" must never cross from a closing group back into the open one.
        ordered = sorted(data.stages, key=lambda s: allowed.index(s.kind))
        stages = [
            await pipelines_repo.add_stage(
                session,
                Stage(
                    pipeline_id=pipeline.id,
                    label=spec.label.strip(),
                    position=i,
                    kind=spec.kind.value,
                ),
            )
            for i, spec in enumerate(ordered)
        ]
        if data.object == PipelineObject.LEAD:
            await automation.add_defaults(session, pipeline.id, stages)
        pipeline = await audited(session, actor, pipeline.id, audit.Action.CREATE)
    return pipeline


async def update_pipeline(
    session: AsyncSession, actor: User, pipeline_id: int, changes: PipelineChanges
) -> Pipeline:
    """Rename a pipeline or make it the default (the old default stops being one, STG-1).

    The running workflows of the open leads in the pipelines concerned are told to reload
    (AUT-2: automation follows the new default; `LeadPipeline` shows the new label).

    Raises Forbidden, NotFound, InvalidInput (empty label, `is_default: false`), Conflict
    (label taken).
    """
    require_role(actor, ADMINS, "changing pipelines")
    async with session.begin():
        pipeline = await locked(session, pipeline_id)
        before = pipeline_record(pipeline)
        # The lead pipelines whose running leads hold a stale label or default flag.
        changed: set[int] = set()
        if changes.label is not None:
            label = require_label(changes.label, "label")
            other = await pipelines_repo.get_by_label(session, pipeline.object, label)
            if other is not None and other.id != pipeline.id:
                raise Conflict(f"a {pipeline.object} pipeline named {label!r} already exists")
            if label != pipeline.label:
                changed.add(pipeline.id)
            pipeline.label = label
        if changes.is_default is False and pipeline.is_default:
            raise invalid(
                "is_default",
                "one_default",
                "there is always one default pipeline: make another pipeline the default instead",
            )
        if changes.is_default and not pipeline.is_default:
            old = await pipelines_repo.get_default(session, pipeline.object)
            if old is not None:
                old.is_default = False
                changed.add(old.id)
                # The partial unique index allows one default at a time: unset before setting.
                await session.flush()
            pipeline.is_default = True
            changed.add(pipeline.id)
        await session.flush()
        if changed and pipeline.object == PipelineObject.LEAD:
            await outbox.enqueue_refresh(session, pipeline_ids=sorted(changed))
        pipeline = await audited(session, actor, pipeline.id, audit.Action.UPDATE, before=before)
    return pipeline


async def delete_pipeline(session: AsyncSession, actor: User, pipeline_id: int) -> None:
    """Delete a pipeline with its stages and automation.

    Raises Forbidden, NotFound, Conflict (the default pipeline; one with leads or deals).
    """
    require_role(actor, ADMINS, "deleting pipelines")
    async with session.begin():
        pipeline = await locked(session, pipeline_id)
        if pipeline.is_default:
            raise Conflict(
                f"{pipeline.label} is the default {pipeline.object} pipeline: make another "
                "pipeline the default before deleting it"
            )
        leads = await pipelines_repo.count_leads(session, pipeline_id=pipeline.id)
        deals = await pipelines_repo.count_deals(session, pipeline_id=pipeline.id)
        if leads or deals:
            held = f"{leads} leads" if leads else f"{deals} deals"
            raise Conflict(f"pipeline {pipeline.label} still has {held}; it cannot be deleted")
        await audit.record(
            session,
            actor,
            audit.Entity.PIPELINE,
            pipeline.id,
            audit.Action.DELETE,
            before=pipeline_record(pipeline),
        )
        await pipelines_repo.delete_pipeline(session, pipeline.id)


def pipeline_record(pipeline: Pipeline) -> dict[str, Any]:
    """The pipeline as the audit log keeps it (its read shape)."""
    return {
        "id": pipeline.id,
        "object": pipeline.object,
        "label": pipeline.label,
        "is_default": pipeline.is_default,
        "stages": [stage_record(s) for s in pipeline.stages],
    }


def stage_record(stage: Stage) -> dict[str, Any]:
    return {
        "id": stage.id,
        "pipeline_id": stage.pipeline_id,
        "label": stage.label,
        "position": stage.position,
        "kind": stage.kind,
    }


async def locked(session: AsyncSession, pipeline_id: int) -> Pipeline:
    pipeline = await pipelines_repo.get(session, pipeline_id, for_update=True, fresh=True)
    if pipeline is None:
        raise NotFound(f"pipeline {pipeline_id} does not exist")
    return pipeline


async def audited(
    session: AsyncSession,
    actor: User,
    pipeline_id: int,
    action: audit.Action,
    before: dict[str, Any] | None = None,
) -> Pipeline:
    """The pipeline as the change left it, with the change in the audit log."""
    pipeline = await fresh(session, pipeline_id)
    await audit.record(
        session,
        actor,
        audit.Entity.PIPELINE,
        pipeline.id,
        action,
        before=before,
        after=pipeline_record(pipeline),
    )
    return pipeline


async def fresh(session: AsyncSession, pipeline_id: int) -> Pipeline:
    # Pipeline.stages is loaded with the pipeline; read it again to see this transaction's edits.
    await session.flush()
    pipeline = await pipelines_repo.get(session, pipeline_id, fresh=True)
    assert pipeline is not None
    return pipeline
