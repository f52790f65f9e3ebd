"""The marketing actions (ACT-2): the lead's contact into and out of a sequence or a static
list, once per key `<workflow id>/<action id>/<seq>` however often the activity retries."""

import uuid
from typing import Any

from sqlalchemy import func, select

from db.engine import SessionFactory
from db.models import ContactListMember, SequenceEnrollment
from domain.chains import ContactListConfig, EnrollInSequenceConfig, SequenceConfig
from services import marketing_effects
from tests.stack import Api


def key() -> str:
    return f"chain-{uuid.uuid4().hex}/a_00000001/1"


async def new_sequence(admin: Api) -> int:
    made = await admin.ok("post", "/sequences", {"name": f"Seq {uuid.uuid4().hex[:8]}"}, status=201)
    return int(made["id"])


async def new_list(admin: Api) -> int:
    made = await admin.ok("post", "/lists", {"name": f"List {uuid.uuid4().hex[:8]}"}, status=201)
    return int(made["id"])


async def enrollments(session_factory: SessionFactory, sequence_id: int) -> list[Any]:
    async with session_factory() as session:
        rows = await session.scalars(
            select(SequenceEnrollment).where(SequenceEnrollment.sequence_id == sequence_id)
        )
        return list(rows.all())


async def members(session_factory: SessionFactory, list_id: int) -> int:
    async with session_factory() as session:
        query = select(func.count()).where(ContactListMember.list_id == list_id)
        return int(await session.scalar(query) or 0)


class TestSequences:
    async def test_enroll_retried_under_one_key_enrolls_once_sent_by_the_owner(
        self, admin, make_user, make_lead, session_factory
    ) -> None:
        owner, _ = await make_user("sales_user", seat="current")
        lead = await make_lead(owner_id=owner["id"])
        sequence_id = await new_sequence(admin)
        k = key()
        config = EnrollInSequenceConfig(sequence_id=sequence_id)
        async with session_factory() as session:
            first = await marketing_effects.enroll_in_sequence(session, k, lead["id"], config)
            again = await marketing_effects.enroll_in_sequence(session, k, lead["id"], config)
        assert (
            first
            == again
            == {
                "sequence_id": sequence_id,
                "contact_id": lead["contact_id"],
                "enrolled": True,
            }
        )
        (row,) = await enrollments(session_factory, sequence_id)
        assert row.contact_id == lead["contact_id"] and row.user_id == owner["id"]

    async def test_enrolling_an_enrolled_contact_under_another_key_changes_nothing(
        self, admin, make_lead, session_factory
    ) -> None:
        lead = await make_lead()
        sequence_id = await new_sequence(admin)
        config = EnrollInSequenceConfig(sequence_id=sequence_id)
        async with session_factory() as session:
            await marketing_effects.enroll_in_sequence(session, key(), lead["id"], config)
            second = await marketing_effects.enroll_in_sequence(session, key(), lead["id"], config)
        assert second["enrolled"] is False
        assert len(await enrollments(session_factory, sequence_id)) == 1

    async def test_unenroll_retried_under_one_key_answers_the_first_result(
        self, admin, make_lead, session_factory
    ) -> None:
        lead = await make_lead()
        sequence_id = await new_sequence(admin)
        await admin.ok(
            "post",
            f"/sequences/{sequence_id}/enrollments",
            {"contact_id": lead["contact_id"]},
            status=201,
        )
        k = key()
        config = SequenceConfig(sequence_id=sequence_id)
        async with session_factory() as session:
            first = await marketing_effects.unenroll_from_sequence(session, k, lead["id"], config)
            again = await marketing_effects.unenroll_from_sequence(session, k, lead["id"], config)
        assert first == again and first["unenrolled"] is True
        assert await enrollments(session_factory, sequence_id) == []

    async def test_a_lead_without_a_contact_is_skipped(
        self, admin, make_lead, session_factory
    ) -> None:
        company = await admin.ok("post", "/companies", {"name": "Acme"}, status=201)
        lead = await make_lead(company_id=company["id"])
        config = EnrollInSequenceConfig(sequence_id=await new_sequence(admin))
        async with session_factory() as session:
            result = await marketing_effects.enroll_in_sequence(session, key(), lead["id"], config)
        assert result == {"skipped": "the lead has no contact"}


class TestLists:
    async def test_add_retried_under_one_key_is_one_membership(
        self, admin, make_lead, session_factory
    ) -> None:
        lead = await make_lead()
        list_id = await new_list(admin)
        k = key()
        config = ContactListConfig(list_id=list_id)
        async with session_factory() as session:
            first = await marketing_effects.add_to_list(session, k, lead["id"], config)
            again = await marketing_effects.add_to_list(session, k, lead["id"], config)
            other_key = await marketing_effects.add_to_list(session, key(), lead["id"], config)
        assert (
            first == again == {"list_id": list_id, "contact_id": lead["contact_id"], "added": True}
        )
        assert other_key["added"] is False
        assert await members(session_factory, list_id) == 1
        page = await admin.ok("get", f"/lists/{list_id}/members")
        assert [m["contact_id"] for m in page["items"]] == [lead["contact_id"]]

    async def test_remove_retried_under_one_key_answers_the_first_result(
        self, admin, make_lead, session_factory
    ) -> None:
        lead = await make_lead()
        list_id = await new_list(admin)
        config = ContactListConfig(list_id=list_id)
        k = key()
        async with session_factory() as session:
            await marketing_effects.add_to_list(session, key(), lead["id"], config)
            first = await marketing_effects.remove_from_list(session, k, lead["id"], config)
            again = await marketing_effects.remove_from_list(session, k, lead["id"], config)
        assert first == again and first["removed"] is True
        assert await members(session_factory, list_id) == 0
