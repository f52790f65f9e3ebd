"""The rules a pipeline's stage list keeps (STG-5 to STG-8, AUT-6): labels non-empty and
unique, kinds the object uses, a stage of every kind, kind groups in order and not split, no
enabled progression rule pointing backwards, and what may be deleted. Each raises the error the
request gets.
"""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Pipeline, Stage
from db.repositories import pipelines as pipelines_repo
from domain import automation as automation_rules
from domain.errors import Conflict, FieldError, invalid
from domain.stages import PipelineObject, StageKind, StageSpec, kinds_for, missing_kinds
from services import automation


def require_label(value: str, field_name: str) -> str:
    label = value.strip()
    if not label:
        raise invalid(field_name, "not_empty", f"{field_name} must not be empty")
    return label


def require_kind_of(obj: PipelineObject, kind: StageKind, field_name: str) -> None:
    kinds = kinds_for(obj)
    if kind not in kinds:
        raise invalid(
            field_name,
            "kind_for_object",
            f"a {obj.value} pipeline's stages are "
            f"{', '.join(k.value for k in kinds)}; not {kind.value}",
        )


def check_stage_list(obj: PipelineObject, specs: Sequence[StageSpec]) -> None:
    """A pipeline's whole stage list: labels non-empty and unique, kinds the object uses, and
    a stage of every kind. Raises InvalidInput naming `stages.<i>.<field>` or `stages`."""
    seen: set[str] = set()
    for i, spec in enumerate(specs):
        stage_label = require_label(spec.label, f"stages.{i}.label")
        require_kind_of(obj, spec.kind, f"stages.{i}.kind")
        if stage_label.lower() in seen:
            raise invalid(f"stages.{i}.label", "unique", f"stage {stage_label!r} is listed twice")
        seen.add(stage_label.lower())
    _require_every_kind(obj, [s.kind for s in specs])


def require_kind_groups(obj: PipelineObject, order: Sequence[StageKind], field_name: str) -> None:
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


async def require_rules_forward(
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


async def require_deletable(
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


def require_unique_label(stages: Sequence[Stage], label: str) -> None:
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
