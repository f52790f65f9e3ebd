"""Save-time checks of the records a chain's actions name (a sequence, a list, a deal stage, a
user): a chain naming one that does not exist is refused with the field's path, so the
mistake shows when it is made rather than when a lead first reaches the stage."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ContactList, Pipeline, SalesSequence, Stage, User
from db.repositories import records
from domain.chains import Action, EffectAction, RecordKind, Reference, walk
from domain.errors import FieldError
from domain.stages import PipelineObject

_MODELS = {
    RecordKind.USER: User,
    RecordKind.SEQUENCE: SalesSequence,
    RecordKind.CONTACT_LIST: ContactList,
}


async def _problem(session: AsyncSession, ref: Reference) -> tuple[str, str] | None:
    if ref.kind == RecordKind.DEAL_STAGE:
        stage = await records.get(session, Stage, ref.id)
        pipeline = await records.get(session, Pipeline, stage.pipeline_id) if stage else None
        if (
            stage is None
            or stage.removed_at is not None
            or pipeline is None
            or pipeline.object != PipelineObject.DEAL
        ):
            return "deal_stage", f"stage {ref.id} is not a stage of a deal pipeline"
        return None
    if await records.get(session, _MODELS[ref.kind], ref.id) is None:
        return "exists", f"{ref.kind.value} {ref.id} does not exist"
    return None


def _signature(action: EffectAction) -> tuple[str, str]:
    return action.id, action.model_dump_json(include={"config"})


async def reference_errors(
    session: AsyncSession, actions: Sequence[Action], unchanged: Sequence[Action] = ()
) -> list[FieldError]:
    """An error at each reference to a missing record, except in actions with the same id and
    config in `unchanged` (the version being edited): an edit elsewhere never fails on a record
    deleted since, and the step reports it when it runs."""
    kept = {_signature(a) for _, _, a in walk(unchanged) if isinstance(a, EffectAction)}
    errors: list[FieldError] = []
    for path, _, action in walk(actions):
        if not isinstance(action, EffectAction) or _signature(action) in kept:
            continue
        for ref in action.references():
            problem = await _problem(session, ref)
            if problem is not None:
                errors.append(FieldError(f"{path}.config.{ref.field}", *problem))
    return errors
