"""Migrations on a scratch database: down and up again, and the models match the result."""

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from alembic import command

from db.migrate import alembic_config, downgrade, upgrade
from devstack.postgres import create_database, drop_database


@pytest.fixture
def scratch_url(database_url: str) -> Iterator[str]:
    name = f"leadpipe_migrate_{uuid.uuid4().hex[:12]}"
    url = create_database(database_url, name)
    try:
        yield url
    finally:
        drop_database(database_url, name)


def test_the_last_migration_goes_down_and_up_and_matches_the_models(scratch_url: str) -> None:
    upgrade(scratch_url)
    downgrade(scratch_url, "-1")
    upgrade(scratch_url)
    command.check(alembic_config(scratch_url))  # raises when the models need a migration


def test_client_lead_keys_become_per_caller_and_back(scratch_url: str) -> None:
    upgrade(scratch_url, "0005")
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        user = conn.execute(
            "INSERT INTO users (email, name, role, token_hash)"
            " VALUES ('a@example.com', 'A', 'admin', 'h') RETURNING id"
        ).fetchone()
        contact = conn.execute(
            "INSERT INTO contacts (first_name) VALUES ('C') RETURNING id"
        ).fetchone()
        assert user is not None and contact is not None
        user_id, contact_id = user[0], contact[0]
        for key, creator in (("client-key", user_id), ("follow-up/run-1", None)):
            conn.execute(
                "INSERT INTO leads (name, contact_id, pipeline_id, stage_id, idempotency_key,"
                " created_by_id) SELECT 'L', %s, p.id, s.id, %s, %s FROM pipelines p"
                " JOIN stages s ON s.pipeline_id = p.id"
                " WHERE p.object = 'lead' AND p.is_default ORDER BY s.position LIMIT 1",
                (contact_id, key, creator),
            )

    def keys() -> list[str]:
        with psycopg.connect(scratch_url) as conn:
            rows = conn.execute("SELECT idempotency_key FROM leads ORDER BY id").fetchall()
            return [r[0] for r in rows]

    upgrade(scratch_url, "0006")
    assert keys() == [f"user/{user_id}/client-key", "follow-up/run-1"]
    downgrade(scratch_url, "0005")
    assert keys() == ["client-key", "follow-up/run-1"]
