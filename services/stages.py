"""A pipeline's stages (STG-4 to STG-8, QUA-5, DIS-9): add, rename, delete, reorder, or save the
whole ordered list at once.

Each use case is one transaction that first locks the pipeline row (`pipelines.locked`), so
concurrent edits of one pipeline's stages apply one after the other and each request saves
whole or not at all (STG-8).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Pipeline, Stage, User
from db.repositories import pipelines as pipelines_repo
from domain.errors import NotFound, invalid
from domain.roles import ADMINS
from domain.stages import PipelineObject, StageKind, StageSpec, kinds_for
from services import audit, outbox, pipelines
from services.auth import require_role
from services.pipelines import pipeline_record, stage_record
from services.stage_rules import (
    check_stage_list,
    require_deletable,
    require_kind_groups,
    require_kind_of,
    require_label,
    require_rules_forward,
    require_unique_label,
)


@dataclass(frozen=True)
class StageEdit:
    """One stage of a whole-list save: an existing stage (`id`) or, without one, a new stage."""

    label: str
    id: int | None = None
    # Required for a new stage; an existing stage's kind, if given, must be its own.
    kind: StageKind | None = None


@dataclass(frozen=True)
class NewStage:
    label: str
    kind: StageKind
    # Where the stage goes (its `position` once added); None: the end of its kind group.
    position: int | None = None


async def add_stage(session: AsyncSession, actor: User, pipeline_id: int, data: NewStage) -> Stage:
    """Add a stage to its kind group, at `position` or else at the group's end (STG-5).

    Raises Forbidden, NotFound, InvalidInput (empty label, kind the pipeline does not use,
    position outside the kind group), Conflict (label taken in this pipeline).
    """
    require_role(actor, ADMINS, "adding stages")
    async with session.begin():
        pipeline = await pipelines.locked(session, pipeline_id)
        stages = await pipelines_repo.stages_in_use(session, pipeline.id)
        label = require_label(data.label, "label")
        kinds = kinds_for(PipelineObject(pipeline.object))
        require_kind_of(PipelineObject(pipeline.object), data.kind, "kind")
        require_unique_label(stages, label)
        start = sum(1 for s in stages if kinds.index(StageKind(s.kind)) < kinds.index(data.kind))
        end = start + sum(1 for s in stages if s.kind == data.kind)
        at = end if data.position is None else data.position
        if not start <= at <= end:
            raise invalid(
                "position",
                "within_kind_group",
                f"new {data.kind.value} stages go at a position from {start} to {end}",
            )
        stage = Stage(pipeline_id=pipeline.id, label=label, position=at, kind=data.kind.value)
        stages.insert(at, stage)
        _renumber(stages)
        await pipelines_repo.add_stage(session, stage)
        await audit.record(
            session,
            actor,
            audit.Entity.STAGE,
            stage.id,
            audit.Action.CREATE,
            after=stage_record(stage),
        )
    return stage


async def rename_stage(
    session: AsyncSession, actor: User, pipeline_id: int, stage_id: int, label: str
) -> Stage:
    """Change only the stage's label; its id, kind, position and leads stay (STG-4). The
    running workflows of the leads in it are told to reload (their `LeadStage`).

    Raises Forbidden, NotFound, InvalidInput (empty label), Conflict (label taken).
    """
    require_role(actor, ADMINS, "renaming stages")
    async with session.begin():
        pipeline = await pipelines.locked(session, pipeline_id)
        stages = await pipelines_repo.stages_in_use(session, pipeline.id)
        stage = _stage_of(stages, pipeline, stage_id)
        before = stage_record(stage)
        new_label = require_label(label, "label")
        require_unique_label([s for s in stages if s.id != stage.id], new_label)
        if new_label != stage.label and pipeline.object == PipelineObject.LEAD:
            # Running leads in the stage show its label (LeadStage): they reload it.
            await outbox.enqueue_refresh(session, stage_ids=[stage.id])
        stage.label = new_label
        await session.flush()
        await audit.record(
            session,
            actor,
            audit.Entity.STAGE,
            stage.id,
            audit.Action.UPDATE,
            before=before,
            after=stage_record(stage),
        )
    return stage


async def delete_stage(session: AsyncSession, actor: User, pipeline_id: int, stage_id: int) -> None:
    """Delete a stage; lead history keeps naming it (STG-6).

    Raises Forbidden, NotFound, Conflict: the stage holds leads or deals (how many, and where
    they could go), it is the last of its kind, or an automation rule uses it (naming the rule).
    """
    require_role(actor, ADMINS, "deleting stages")
    async with session.begin():
        pipeline = await pipelines.locked(session, pipeline_id)
        stages = await pipelines_repo.stages_in_use(session, pipeline.id)
        stage = _stage_of(stages, pipeline, stage_id)
        await require_deletable(session, stage, [s for s in stages if s.id != stage.id])
        before = stage_record(stage)
        stage.removed_at = datetime.now(UTC)
        _renumber([s for s in stages if s.id != stage.id])
        await session.flush()
        await audit.record(
            session, actor, audit.Entity.STAGE, stage.id, audit.Action.DELETE, before=before
        )


async def reorder_stages(
    session: AsyncSession, actor: User, pipeline_id: int, ids: Sequence[int]
) -> Pipeline:
    """Put the stages in the order of `ids` (STG-7); groups stay open, then closing kinds.

    Raises Forbidden, NotFound, InvalidInput (not a permutation of the stages, or a kind group
    split or out of order), Conflict (an enabled automation rule would point backwards, AUT-6).
    """
    require_role(actor, ADMINS, "reordering stages")
    async with session.begin():
        pipeline = await pipelines.locked(session, pipeline_id)
        stages = await pipelines_repo.stages_in_use(session, pipeline.id)
        by_id = {s.id: s for s in stages}
        if len(ids) != len(by_id) or set(ids) != set(by_id):
            raise invalid(
                "ids",
                "permutation",
                "ids must list every stage of the pipeline exactly once; its stages are "
                + ", ".join(str(s.id) for s in stages),
            )
        obj = PipelineObject(pipeline.object)
        require_kind_groups(obj, [StageKind(by_id[i].kind) for i in ids], "ids")
        await require_rules_forward(session, pipeline, ids, "ids")
        before = pipeline_record(pipeline)
        _renumber([by_id[i] for i in ids])
        await session.flush()
        pipeline = await pipelines.audited(
            session, actor, pipeline.id, audit.Action.REORDER, before=before
        )
    return pipeline


async def save_stages(
    session: AsyncSession, actor: User, pipeline_id: int, edits: Sequence[StageEdit]
) -> Pipeline:
    """Save the pipeline's whole ordered stage list at once, all or nothing (STG-8, DIS-9).

    An edit with an id keeps that stage (renamed when its label differs), one without adds a
    stage, and a stage left out is deleted; the list's order is the new order. The single
    edits' rules hold: labels non-empty and unique, every kind group kept and not split, a
    stage's kind never changes, a deleted stage holds no leads or deals and no automation rule
    names it, and no enabled progression rule ends up pointing backwards (AUT-6). Audited as
    the single edits are: one entry per stage deleted, added or renamed, and a reorder entry
    when the kept stages changed order.

    Raises Forbidden, NotFound, InvalidInput (`stages.<i>.<field>`), Conflict (a stage to
    delete holds leads or deals or is named by a rule; a rule would point backwards).
    """
    require_role(actor, ADMINS, "saving stages")
    async with session.begin():
        pipeline = await pipelines.locked(session, pipeline_id)
        obj = PipelineObject(pipeline.object)
        stages = await pipelines_repo.stages_in_use(session, pipeline.id)
        by_id = {s.id: s for s in stages}
        specs: list[StageSpec] = []
        for i, edit in enumerate(edits):
            if edit.id is None:
                if edit.kind is None:
                    raise invalid(f"stages.{i}.kind", "required", "a new stage needs a kind")
                specs.append(StageSpec(edit.label, edit.kind))
                continue
            stage = by_id.get(edit.id)
            if stage is None:
                raise invalid(
                    f"stages.{i}.id",
                    "stage_in_pipeline",
                    f"stage {edit.id} is not a stage of pipeline {pipeline.id}; "
                    "leave the id out to add a stage",
                )
            if any(e.id == edit.id for e in edits[:i]):
                raise invalid(f"stages.{i}.id", "unique", f"stage {edit.id} is listed twice")
            if edit.kind is not None and edit.kind != stage.kind:
                raise invalid(
                    f"stages.{i}.kind",
                    "kind_unchanged",
                    f"stage {stage.label} is {stage.kind} and a stage keeps its kind: "
                    "leave it out and add a new stage instead",
                )
            specs.append(StageSpec(edit.label, StageKind(stage.kind)))
        check_stage_list(obj, specs)
        require_kind_groups(obj, [s.kind for s in specs], "stages")
        kept = [by_id[e.id] for e in edits if e.id is not None]
        removed = [s for s in stages if s not in kept]
        for stage in removed:
            # Every kind group has a stage in the list (checked above), new ones included.
            await require_deletable(session, stage, kept, kind_kept=True)
        await require_rules_forward(session, pipeline, [s.id for s in kept], "stages")

        before = {s.id: stage_record(s) for s in stages}
        pipeline_before = pipeline_record(pipeline)
        now = datetime.now(UTC)
        for stage in removed:
            stage.removed_at = now
        labels = {
            e.id: spec.label.strip()
            for e, spec in zip(edits, specs, strict=True)
            if e.id is not None
        }
        renamed = [s for s in kept if s.label != labels[s.id]]
        if renamed and pipeline.object == PipelineObject.LEAD:
            # Running leads in a renamed stage show its label (LeadStage): they reload it.
            await outbox.enqueue_refresh(session, stage_ids=[s.id for s in renamed])
        # The unique index on labels is checked row by row: park the renamed stages under
        # labels no one can choose (labels are single lines), so a swap of labels can be saved.
        for stage in renamed:
            stage.label = f"\n{stage.id}"
        await session.flush()
        added: list[Stage] = []
        for position, (edit, spec) in enumerate(zip(edits, specs, strict=True)):
            if edit.id is not None:
                stage = by_id[edit.id]
                stage.label, stage.position = labels[edit.id], position
                continue
            stage = Stage(
                pipeline_id=pipeline.id,
                label=spec.label.strip(),
                position=position,
                kind=spec.kind.value,
            )
            added.append(await pipelines_repo.add_stage(session, stage))
        await session.flush()
        entity = audit.Entity.STAGE
        for stage in removed:
            await audit.record(
                session, actor, entity, stage.id, audit.Action.DELETE, before=before[stage.id]
            )
        for stage in added:
            await audit.record(
                session, actor, entity, stage.id, audit.Action.CREATE, after=stage_record(stage)
            )
        for stage in renamed:
            await audit.record(
                session,
                actor,
                entity,
                stage.id,
                audit.Action.UPDATE,
                before=before[stage.id],
                after=stage_record(stage),
            )
        if [s.id for s in kept] != [s.id for s in stages if s in kept]:
            pipeline = await pipelines.audited(
                session, actor, pipeline.id, audit.Action.REORDER, before=pipeline_before
            )
        else:
            pipeline = await pipelines.fresh(session, pipeline.id)
    return pipeline


def _stage_of(stages: Sequence[Stage], pipeline: Pipeline, stage_id: int) -> Stage:
    stage = next((s for s in stages if s.id == stage_id), None)
    if stage is None:
        raise NotFound(f"pipeline {pipeline.id} has no stage {stage_id}")
    return stage


def _renumber(stages: Sequence[Stage]) -> None:
    for i, stage in enumerate(stages):
        stage.position = i
