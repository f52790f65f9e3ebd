from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Deal, Lead, Pipeline, Stage


async def get(
    session: AsyncSession, pipeline_id: int, *, for_update: bool = False, fresh: bool = False
) -> Pipeline | None:
    """`fresh` reloads the row and its stages even if this session already holds them."""
    return await session.get(
        Pipeline, pipeline_id, with_for_update=for_update, populate_existing=fresh
    )


async def is_default(session: AsyncSession, pipeline_id: int) -> bool | None:
    """The pipeline's default flag alone (one index lookup); None for no such pipeline."""
    return await session.scalar(select(Pipeline.is_default).where(Pipeline.id == pipeline_id))


async def label_and_default(session: AsyncSession, pipeline_id: int) -> tuple[str, bool] | None:
    """The pipeline's label and default flag, without its stages; None for no such pipeline."""
    row = (
        await session.execute(
            select(Pipeline.label, Pipeline.is_default).where(Pipeline.id == pipeline_id)
        )
    ).one_or_none()
    return None if row is None else (row.label, row.is_default)


async def get_default(session: AsyncSession, obj: str) -> Pipeline | None:
    return await session.scalar(
        select(Pipeline).where(Pipeline.object == obj, Pipeline.is_default.is_(True))
    )


async def list_pipelines(session: AsyncSession, obj: str | None) -> Sequence[Pipeline]:
    query = select(Pipeline).order_by(Pipeline.object, Pipeline.id)
    if obj is not None:
        query = query.where(Pipeline.object == obj)
    return (await session.scalars(query)).all()


async def get_by_label(session: AsyncSession, obj: str, label: str) -> Pipeline | None:
    return await session.scalar(
        select(Pipeline).where(Pipeline.object == obj, func.lower(Pipeline.label) == label.lower())
    )


async def add(session: AsyncSession, pipeline: Pipeline) -> Pipeline:
    session.add(pipeline)
    await session.flush()
    return pipeline


async def delete_pipeline(session: AsyncSession, pipeline_id: int) -> None:
    # Stages and automation go with it (ON DELETE CASCADE).
    await session.execute(delete(Pipeline).where(Pipeline.id == pipeline_id))


async def get_stage(session: AsyncSession, stage_id: int) -> Stage | None:
    """Any stage, a deleted one too (history still names it)."""
    return await session.get(Stage, stage_id)


async def stages_in_use(session: AsyncSession, pipeline_id: int) -> list[Stage]:
    """The pipeline's stages, in order, locked: edits of one pipeline's stages go one at a time."""
    rows = await session.scalars(
        select(Stage)
        .where(Stage.pipeline_id == pipeline_id, Stage.removed_at.is_(None))
        .order_by(Stage.position, Stage.id)
        .with_for_update()
    )
    return list(rows.all())


async def add_stage(session: AsyncSession, stage: Stage) -> Stage:
    session.add(stage)
    await session.flush()
    return stage


async def count_leads(
    session: AsyncSession, *, pipeline_id: int | None = None, stage_id: int | None = None
) -> int:
    query = select(func.count()).select_from(Lead)
    if pipeline_id is not None:
        query = query.where(Lead.pipeline_id == pipeline_id)
    if stage_id is not None:
        query = query.where(Lead.stage_id == stage_id)
    return int(await session.scalar(query) or 0)


async def count_deals(
    session: AsyncSession, *, pipeline_id: int | None = None, stage_id: int | None = None
) -> int:
    query = select(func.count()).select_from(Deal)
    if pipeline_id is not None:
        query = query.where(Deal.pipeline_id == pipeline_id)
    if stage_id is not None:
        query = query.where(Deal.stage_id == stage_id)
    return int(await session.scalar(query) or 0)
