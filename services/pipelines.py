"""Pipelines and their stages (STG-1 to STG-8, QUA-5, DIS-9).

Each use case is one transaction that first locks the pipeline row, so concurrent edits of one
pipeline's stages apply one after the other and each request saves whole or not at all (STG-8).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Pipeline, Stage, User
from db.repositories import pipelines as pipelines_repo
from domain import automation as automation_rules
from domain.errors import Conflict, FieldError, NotFound, invalid
from domain.roles import ADMINS
from domain.stages import PipelineObject, StageKind, StageSpec, kinds_for, missing_kinds
from services import audit, automation, outbox
from services.auth import require_role


@dataclass(frozen=True)
class NewPipeline:
    object: PipelineObject
    label: str
    stages: Sequence[StageSpec]


@dataclass(frozen=True)
class PipelineChanges:
    label: str | None = None
    is_default: bool | None = None


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
    label = _label(data.label, "label")
    allowed = kinds_for(data.object)
    _check_stage_list(data.object, data.stages)
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
        pipeline = await _audited(session, actor, pipeline.id, audit.Action.CREATE)
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
        pipeline = await _locked(session, pipeline_id)
        before = pipeline_record(pipeline)
        # The lead pipelines whose running leads hold a stale label or default flag.
        changed: set[int] = set()
        if changes.label is not None:
            label = _label(changes.label, "label")
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
        pipeline = await _audited(session, actor, pipeline.id, audit.Action.UPDATE, before=before)
    return pipeline


async def delete_pipeline(session: AsyncSession, actor: User, pipeline_id: int) -> None:
    """Delete a pipeline with its stages and automation.

    Raises Forbidden, NotFound, Conflict (the default pipeline; one with leads or deals).
    """
    require_role(actor, ADMINS, "deleting pipelines")
    async with session.begin():
        pipeline = await _locked(session, pipeline_id)
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


async def add_stage(session: AsyncSession, actor: User, pipeline_id: int, data: NewStage) -> Stage:
    """Add a stage to its kind group, at `position` or else at the group's end (STG-5).

    Raises Forbidden, NotFound, InvalidInput (empty label, kind the pipeline does not use,
    position outside the kind group), Conflict (label taken in this pipeline).
    """
    require_role(actor, ADMINS, "adding stages")
    async with session.begin():
        pipeline = await _locked(session, pipeline_id)
        stages = await pipelines_repo.stages_in_use(session, pipeline.id)
        label = _label(data.label, "label")
        kinds = kinds_for(PipelineObject(pipeline.object))
        _require_kind_of(PipelineObject(pipeline.object), data.kind, "kind")
        _require_unique_label(stages, label)
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
        pipeline = await _locked(session, pipeline_id)
        stages = await pipelines_repo.stages_in_use(session, pipeline.id)
        stage = _stage_of(stages, pipeline, stage_id)
        before = stage_record(stage)
        new_label = _label(label, "label")
        _require_unique_label([s for s in stages if s.id != stage.id], new_label)
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
        pipeline = await _locked(session, pipeline_id)
        stages = await pipelines_repo.stages_in_use(session, pipeline.id)
        stage = _stage_of(stages, pipeline, stage_id)
        await _require_deletable(session, stage, [s for s in stages if s.id != stage.id])
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
        pipeline = await _locked(session, pipeline_id)
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
        _require_kind_groups(obj, [StageKind(by_id[i].kind) for i in ids], "ids")
        await _require_rules_forward(session, pipeline, ids, "ids")
        before = pipeline_record(pipeline)
        _renumber([by_id[i] for i in ids])
        await session.flush()
        pipeline = await _audited(session, actor, pipeline.id, audit.Action.REORDER, before=before)
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
        pipeline = await _locked(session, pipeline_id)
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
        _check_stage_list(obj, specs)
        _require_kind_groups(obj, [s.kind for s in specs], "stages")
        kept = [by_id[e.id] for e in edits if e.id is not None]
        removed = [s for s in stages if s not in kept]
        for stage in removed:
            # Every kind group has a stage in the list (checked above), new ones included.
            await _require_deletable(session, stage, kept, kind_kept=True)
        await _require_rules_forward(session, pipeline, [s.id for s in kept], "stages")

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
            pipeline = await _audited(
                session, actor, pipeline.id, audit.Action.REORDER, before=pipeline_before
            )
        else:
            pipeline = await _fresh(session, pipeline.id)
    return pipeline


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


async def _locked(session: AsyncSession, pipeline_id: int) -> Pipeline:
    pipeline = await pipelines_repo.get(session, pipeline_id, for_update=True, fresh=True)
    if pipeline is None:
        raise NotFound(f"pipeline {pipeline_id} does not exist")
    return pipeline


async def _audited(
    session: AsyncSession,
    actor: User,
    pipeline_id: int,
    action: audit.Action,
    before: dict[str, Any] | None = None,
) -> Pipeline:
    """The pipeline as the change left it, with the change in the audit log."""
    pipeline = await _fresh(session, pipeline_id)
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


async def _fresh(session: AsyncSession, pipeline_id: int) -> Pipeline:
    # Pipeline.stages is loaded with the pipeline; read it again to see this transaction's edits.
    await session.flush()
    pipeline = await pipelines_repo.get(session, pipeline_id, fresh=True)
    assert pipeline is not None
    return pipeline


def _stage_of(stages: Sequence[Stage], pipeline: Pipeline, stage_id: int) -> Stage:
    stage = next((s for s in stages if s.id == stage_id), None)
    if stage is None:
        raise NotFound(f"pipeline {pipeline.id} has no stage {stage_id}")
    return stage


def _label(value: str, field_name: str) -> str:
    label = value.strip()
    if not label:
        raise invalid(field_name, "not_empty", f"{field_name} must not be empty")
    return label


def _require_kind_of(obj: PipelineObject, kind: StageKind, field_name: str) -> None:
    kinds = kinds_for(obj)
    if kind not in kinds:
        raise invalid(
            field_name,
            "kind_for_object",
            f"a {obj.value} pipeline's stages are "
            f"{', '.join(k.value for k in kinds)}; not {kind.value}",
        )


def _check_stage_list(obj: PipelineObject, specs: Sequence[StageSpec]) -> None:
    """A pipeline's whole stage list: labels non-empty and unique, kinds the object uses, and
    a stage of every kind. Raises InvalidInput naming `stages.<i>.<field>` or `stages`."""
    seen: set[str] = set()
    for i, spec in enumerate(specs):
        stage_label = _label(spec.label, f"stages.{i}.label")
        _require_kind_of(obj, spec.kind, f"stages.{i}.kind")
        if stage_label.lower() in seen:
            raise invalid(f"stages.{i}.label", "unique", f"stage {stage_label!r} is listed twice")
        seen.add(stage_label.lower())
    _require_every_kind(obj, [s.kind for s in specs])


def _require_kind_groups(obj: PipelineObject, order: Sequence[StageKind], field_name: str) -> None:
    """Positions are global, so "earlier" must never cross from a closing group back into the
    open one: the kind groups come in their order, none split. Raises InvalidInput."""
    kinds = kinds_for(obj)
    indexes = [kinds.index(kind) for kind in order]
    if indexes != sorted(indexes):
        raise invalid(
            field_name,
            "kind_groups",
            "stages can be reordered only within their kind group: "
            + ", then ".join(k.value for k in kinds),
        )


async def _require_rules_forward(
    session: AsyncSession, pipeline: Pipeline, order: Sequence[int], field_name: str
) -> None:
    """Raises Conflict naming each enabled progression rule that `order` (stage ids) would
    make point backwards: such a rule could never fire (AUT-6)."""
    if pipeline.object != PipelineObject.LEAD:
        return
    config = await automation.get_automation(session, pipeline.id)
    backward = automation_rules.backward_rules(config, order)
    if backward:
        message = (
            "this order would make {} move leads backwards; switch the rule off or "
            "change its stages first"
        )
        raise Conflict(
            message.format(", ".join(backward)),
            [FieldError(field_name, "rule_stays_forward", message.format(n)) for n in backward],
        )


async def _require_deletable(
    session: AsyncSession,
    stage: Stage,
    remaining: Sequence[Stage],
    *,
    kind_kept: bool | None = None,
) -> None:
    """The stage may be deleted (STG-6): it holds no leads or deals, it is not the last of its
    kind, and no automation rule uses it.

    `remaining` are the stages that stay (where its leads could go); `kind_kept` overrides
    whether a stage of its kind stays, when stages not yet saved count too. Raises Conflict
    saying how many leads or deals and where they could go, or naming the rule.
    """
    same_kind = [s for s in remaining if s.kind == stage.kind]
    leads = await pipelines_repo.count_leads(session, stage_id=stage.id)
    deals = await pipelines_repo.count_deals(session, stage_id=stage.id)
    if leads or deals:
        held = f"{leads} leads" if leads else f"{deals} deals"
        others = ", ".join(s.label for s in (same_kind or remaining))
        raise Conflict(
            f"stage {stage.label} holds {held}: move them to another stage first "
            f"(e.g. {others}), then delete it"
        )
    if not (bool(same_kind) if kind_kept is None else kind_kept):
        raise Conflict(
            f"{stage.label} is the pipeline's last {stage.kind} stage; "
            "a pipeline needs at least one stage of each kind"
        )
    rules = await automation.rules_using_stage(session, stage.id)
    if rules:
        raise Conflict(
            f"stage {stage.label} is used by the automation rule {', '.join(rules)}: "
            "change the rule first"
        )


def _require_unique_label(stages: Sequence[Stage], label: str) -> None:
    if any(s.label.lower() == label.lower() for s in stages):
        raise Conflict(f"the pipeline already has a stage named {label!r}")


def _require_every_kind(obj: PipelineObject, kinds: Sequence[StageKind]) -> None:
    missing = missing_kinds(obj, kinds)
    if missing:
        message = (
            f"a {obj.value} pipeline needs at least one stage of each kind "
            f"({', '.join(k.value for k in kinds_for(obj))}); missing: "
            f"{', '.join(k.value for k in missing)}"
        )
        raise invalid("stages", "every_kind", message)


def _renumber(stages: Sequence[Stage]) -> None:
    for i, stage in enumerate(stages):
        stage.position = i
