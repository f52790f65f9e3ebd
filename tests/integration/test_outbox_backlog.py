"""The outbox's backlog, as operators read it in `GET /metrics`: the undelivered messages of
each kind and the age of each kind's oldest.

The messages are written inside a transaction that is rolled back: only that session sees
them, so no relay delivers them and no other test's messages blur the count.
"""

import uuid

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from db.engine import SessionFactory
from services import outbox
from tests.stack import Api

UNUSED_WORKFLOW = "guided-meeting-1999999999"


def samples(exposition: str, name: str) -> dict[str, float]:
    """The values of metric `name` by their `kind` label."""
    return {
        s.labels["kind"]: s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
        if s.name == name
    }


class TestOutboxBacklog:
    async def test_counts_the_undelivered_messages_by_kind_with_the_oldest_age(
        self, session_factory: SessionFactory
    ) -> None:
        # A kind of its own: other sessions' messages, committed meanwhile, do not count in it.
        kind = f"test-{uuid.uuid4().hex[:8]}"
        async with session_factory() as session, session.begin():
            owed = [outbox.Owed(kind, UNUSED_WORKFLOW, {"n": i}) for i in range(3)]
            await outbox.enqueue_all(session, owed)
            # One of them written two minutes ago: a relay that fell behind.
            await session.execute(
                text(
                    "update outbox set created_at = now() - interval '120 seconds' "
                    "where id = (select min(id) from outbox where workflow_id = :w)"
                ),
                {"w": UNUSED_WORKFLOW},
            )
            backlog = {b.kind: b for b in await outbox.backlog(session)}
            await session.rollback()

        assert backlog[kind].messages == 3
        assert backlog[kind].oldest_seconds >= 120

    async def test_every_kind_shows_even_with_none_owed(
        self, session_factory: SessionFactory
    ) -> None:
        async with session_factory() as session, session.begin():
            await session.execute(text("delete from outbox"))
            backlog = await outbox.backlog(session)
            await session.rollback()

        assert [(b.kind, b.messages, b.oldest_seconds) for b in backlog] == [
            (kind, 0, 0.0) for kind in outbox.KINDS
        ]

    async def test_metrics_serve_the_backlog_of_every_kind(self, admin: Api) -> None:
        exposition = (await admin.get("/metrics")).text

        assert set(samples(exposition, "leadpipe_outbox_messages")) >= set(outbox.KINDS)
        assert set(samples(exposition, "leadpipe_outbox_oldest_seconds")) >= set(outbox.KINDS)
