from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import SalesSequence, SequenceEnrollment


async def get(session: AsyncSession, sequence_id: int) -> SalesSequence | None:
    return await session.get(SalesSequence, sequence_id)


async def get_by_name(session: AsyncSession, name: str) -> SalesSequence | None:
    return await session.scalar(select(SalesSequence).where(SalesSequence.name == name))


async def add(session: AsyncSession, sequence: SalesSequence) -> SalesSequence:
    session.add(sequence)
    await session.flush()
    return sequence


async def list_sequences(
    session: AsyncSession, *, after_id: int | None, limit: int
) -> Sequence[SalesSequence]:
    query = select(SalesSequence).order_by(SalesSequence.id).limit(limit)
    if after_id is not None:
        query = query.where(SalesSequence.id > after_id)
    return (await session.scalars(query)).all()


async def enroll(
    session: AsyncSession, sequence_id: int, contact_id: int, user_id: int | None
) -> SequenceEnrollment | None:
    """Enroll the contact; None when it is enrolled already (a concurrent enrollment too)."""
    return await session.scalar(
        insert(SequenceEnrollment)
        .values(sequence_id=sequence_id, contact_id=contact_id, user_id=user_id)
        .on_conflict_do_nothing()
        .returning(SequenceEnrollment)
    )


async def unenroll(session: AsyncSession, sequence_id: int, contact_id: int) -> bool:
    """Whether the contact was enrolled."""
    removed = await session.scalar(
        delete(SequenceEnrollment)
        .where(
            SequenceEnrollment.sequence_id == sequence_id,
            SequenceEnrollment.contact_id == contact_id,
        )
        .returning(SequenceEnrollment.contact_id)
    )
    return removed is not None
