from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Activity, Lead, Stage


async def insert_once(session: AsyncSession, values: dict[str, object]) -> tuple[Activity, bool]:
    """Insert unless `event_id` exists; returns (the stored activity, whether it is new).

    ON CONFLICT makes two concurrent posts of one event agree without a unique-violation error.
    """
    new_id = await session.scalar(
        insert(Activity)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(Activity.id)
    )
    stored = await session.scalar(select(Activity).where(Activity.event_id == values["event_id"]))
    assert stored is not None
    return stored, new_id is not None


async def open_leads_of_contact(session: AsyncSession, contact_id: int) -> Sequence[Lead]:
    return (
        await session.scalars(
            select(Lead)
            .join(Stage, Stage.id == Lead.stage_id)
            .where(Lead.contact_id == contact_id, Stage.kind == "open")
            .order_by(Lead.id)
        )
    ).all()


async def stage_kind(session: AsyncSession, stage_id: int) -> str | None:
    return await session.scalar(select(Stage.kind).where(Stage.id == stage_id))
