"""Sales sequences and enrollments: which contacts a user is working through a sequence
(WS-13's feed filter; a task's `sequence_id` makes it a sequence task, GA-13)."""

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Contact, SalesSequence, SequenceEnrollment, User
from db.repositories import sequences as sequences_repo
from domain.errors import NotFound, conflict
from domain.roles import ADMINS, EVERYONE, RECORD_EDITORS
from services.auth import require_role
from services.pagination import Page, PageRequest, to_page
from services.references import require_record


async def create_sequence(session: AsyncSession, actor: User, name: str) -> SalesSequence:
    """Raises Forbidden (not an admin), Conflict (the name is taken)."""
    require_role(actor, ADMINS, "creating sequences")
    async with session.begin():
        if await sequences_repo.get_by_name(session, name) is not None:
            raise conflict("name", "unique", f"a sequence named {name!r} already exists")
        sequence = await sequences_repo.add(
            session, SalesSequence(name=name, created_by_id=actor.id)
        )
    return sequence


async def list_sequences(
    session: AsyncSession, actor: User, page: PageRequest
) -> Page[SalesSequence]:
    require_role(actor, EVERYONE, "listing sequences")
    rows = await sequences_repo.list_sequences(
        session, after_id=page.after_id, limit=page.limit + 1
    )
    return to_page(rows, page, lambda s: s.id)


async def enroll(
    session: AsyncSession,
    actor: User,
    sequence_id: int,
    contact_id: int,
    user_id: int | None,
) -> SequenceEnrollment:
    """Enroll a contact, sent by `user_id` (the caller if None).

    Raises Forbidden (role), NotFound (sequence), InvalidInput (unknown contact or user),
    Conflict (the contact is enrolled in this sequence already).
    """
    require_role(actor, RECORD_EDITORS, "enrolling contacts in sequences")
    async with session.begin():
        if await sequences_repo.get(session, sequence_id) is None:
            raise NotFound(f"sequence {sequence_id} does not exist")
        await require_record(session, Contact, contact_id, "contact_id")
        await require_record(session, User, user_id, "user_id")
        enrollment = await sequences_repo.enroll(
            session, sequence_id, contact_id, user_id or actor.id
        )
        if enrollment is None:
            raise conflict(
                "contact_id",
                "not_enrolled",
                f"contact {contact_id} is enrolled in sequence {sequence_id} already",
            )
    return enrollment


async def unenroll(session: AsyncSession, actor: User, sequence_id: int, contact_id: int) -> None:
    """Raises Forbidden (role), NotFound (no such sequence, or the contact is not in it)."""
    require_role(actor, RECORD_EDITORS, "unenrolling contacts from sequences")
    async with session.begin():
        if await sequences_repo.get(session, sequence_id) is None:
            raise NotFound(f"sequence {sequence_id} does not exist")
        if not await sequences_repo.unenroll(session, sequence_id, contact_id):
            raise NotFound(f"contact {contact_id} is not enrolled in sequence {sequence_id}")
