"""The workspace benchmark's data (bench/workspace.py): users, leads, activities, tasks and
meetings, with the contacts, companies, sequences and enrollments they point at, written
straight into PostgreSQL with COPY. Users' shares of the records fall off as 1/sqrt(rank), so
the busiest user holds about 4% of everything and the median one 0.4%.
"""

import hashlib
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

ZONES = [
    "UTC",
    "Europe/Helsinki",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Kiritimati",
]
ACTIVITY_TYPES = (
    ("email_sent", 40),
    ("email_open", 20),
    ("email_reply", 10),
    ("call", 15),
    ("meeting", 5),
    ("note", 7),
    ("linkedin_message", 3),
)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Sizes:
    users: int
    leads: int
    activities: int
    tasks: int
    meetings: int

    @property
    def contacts(self) -> int:
        return self.leads

    @property
    def companies(self) -> int:
        return max(1, self.leads // 5)


def token_of(user_id: int) -> str:
    return f"lp_bench_{user_id}"


def _copy(
    conn: psycopg.Connection[Any], table: str, columns: str, rows: Iterator[tuple[Any, ...]]
) -> int:
    count = 0
    with conn.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def seed(url: str, sizes: Sizes, rng: random.Random) -> None:
    """Everything through COPY, in one transaction, then VACUUM ANALYZE (visibility maps
    for index-only scans, statistics for the planner)."""
    now = datetime.now(UTC)
    ranks = range(1, sizes.users + 1)
    cum: list[float] = []
    total = 0.0
    for rank in ranks:
        total += 1 / rank**0.5
        cum.append(total)

    def owners(n: int) -> list[int]:
        return rng.choices(list(ranks), cum_weights=cum, k=n)

    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        stage_rows = conn.execute(
            "SELECT s.id, p.id FROM stages s JOIN pipelines p ON p.id = s.pipeline_id "
            "WHERE p.object = 'lead' AND p.is_default AND s.removed_at IS NULL ORDER BY s.position"
        ).fetchall()
        stage_ids = [s for s, _ in stage_rows]
        pipeline_id = stage_rows[0][1]

        _copy(
            conn,
            "users",
            "id, email, name, role, seat, time_zone, token_hash",
            (
                (
                    i,
                    f"rep{i}@bench.example",
                    f"Rep {i}",
                    "sales_user",
                    "current",
                    ZONES[i % len(ZONES)],
                    hashlib.sha256(token_of(i).encode()).hexdigest(),
                )
                for i in ranks
            ),
        )
        company_owner = owners(sizes.companies)
        _copy(
            conn,
            "companies",
            "id, name, domain, is_target_account, owner_id",
            (
                (i, f"Company {i}", f"c{i}.example", rng.random() < 0.1, company_owner[i - 1])
                for i in range(1, sizes.companies + 1)
            ),
        )
        contact_owner = owners(sizes.contacts)
        contacts_of: dict[int, list[int]] = {u: [] for u in ranks}
        for contact_id, owner in enumerate(contact_owner, start=1):
            contacts_of[owner].append(contact_id)
        _copy(
            conn,
            "contacts",
            "id, email, first_name, last_name, company_id, owner_id, lifecycle_stage",
            (
                (
                    i,
                    f"p{i}@c{i % sizes.companies + 1}.example",
                    f"First{i}",
                    f"Last{i}",
                    i % sizes.companies + 1,
                    contact_owner[i - 1],
                    "lead",
                )
                for i in range(1, sizes.contacts + 1)
            ),
        )
        stage_weights = [max(1, 8 - 2 * i) for i in range(len(stage_ids))]
        lead_stage = rng.choices(stage_ids, weights=stage_weights, k=sizes.leads)
        _copy(
            conn,
            "leads",
            "id, name, contact_id, pipeline_id, stage_id, owner_id, created_at, updated_at",
            (
                (
                    i,
                    f"Lead {i}",
                    i,
                    pipeline_id,
                    lead_stage[i - 1],
                    contact_owner[i - 1],
                    created := now - rng.random() * 400 * DAY,
                    created,
                )
                for i in range(1, sizes.leads + 1)
            ),
        )

        def task_rows() -> Iterator[tuple[Any, ...]]:
            for i, owner in enumerate(owners(sizes.tasks), start=1):
                mine = contacts_of[owner]
                contact = rng.choice(mine) if mine else None
                due = None if rng.random() < 0.1 else now + (rng.random() * 425 - 365) * DAY
                past = due is not None and due < now
                done = rng.random() < (0.85 if past else 0.05)
                completed = (due if due and past else now - rng.random() * DAY) if done else None
                yield (
                    i,
                    f"Task {i}",
                    rng.choice(("todo", "call", "email")),
                    rng.choice(("none", "low", "medium", "high")),
                    "completed" if done else "open",
                    due,
                    owner,
                    contact,
                    contact,  # one lead per contact, same id
                    completed,
                )

        _copy(
            conn,
            "tasks",
            "id, title, type, priority, status, due_at, owner_id, contact_id, lead_id, "
            "completed_at",
            task_rows(),
        )

        meeting_contacts: list[tuple[int, int]] = []

        def meeting_rows() -> Iterator[tuple[Any, ...]]:
            for i, owner in enumerate(owners(sizes.meetings), start=1):
                start = now + (rng.random() * 330 - 300) * DAY
                start = start.replace(minute=start.minute // 15 * 15, second=0, microsecond=0)
                busy = rng.random() < 0.04
                length = (
                    timedelta(hours=rng.choice((1, 4, 24, 72)))
                    if busy
                    else timedelta(minutes=rng.choice((30, 45, 60)))
                )
                mine = contacts_of[owner]
                if not busy and mine:
                    for contact in set(rng.choices(mine, k=rng.choice((1, 1, 2)))):
                        meeting_contacts.append((i, contact))
                yield (
                    i,
                    owner,
                    "busy" if busy else "meeting",
                    "Out of office" if busy else f"Meeting {i}",
                    start,
                    start + length,
                    None if busy else ("completed" if start < now else "scheduled"),
                    None if busy else f"https://meet.example.com/{i}",
                )

        _copy(
            conn,
            "meetings",
            "id, owner_id, kind, title, start_at, end_at, outcome, meeting_url",
            meeting_rows(),
        )
        _copy(conn, "meeting_contacts", "meeting_id, contact_id", iter(meeting_contacts))

        kinds = [k for k, _ in ACTIVITY_TYPES]
        weights = [w for _, w in ACTIVITY_TYPES]
        activity_owner = owners(sizes.activities)
        activity_type = rng.choices(kinds, weights=weights, k=sizes.activities)
        # Stored in time order, as activities arrive.
        times = sorted(now - rng.random() * 400 * DAY for _ in range(sizes.activities))
        email = json.dumps({"email": {"to": ["p@c.example"], "from": "rep@bench.example"}})
        call = json.dumps({"call": {"status": "completed", "outcome": "connected"}})

        def activity_rows() -> Iterator[tuple[Any, ...]]:
            for i in range(sizes.activities):
                owner = activity_owner[i]
                mine = contacts_of[owner]
                kind = activity_type[i]
                contact = rng.choice(mine) if mine and rng.random() < 0.97 else None
                details = email if kind.startswith("email") else call if kind == "call" else "{}"
                yield (
                    f"bench-{i}",
                    kind,
                    times[i],
                    owner,
                    contact,
                    contact,
                    details,
                )

        _copy(
            conn,
            "activities",
            "event_id, type, occurred_at, user_id, contact_id, lead_id, details",
            activity_rows(),
        )
        _copy(
            conn,
            "sequences",
            "id, name",
            ((i, f"Sequence {i}") for i in range(1, 11)),
        )
        enrolled = rng.sample(range(1, sizes.contacts + 1), k=min(10_000, sizes.contacts))
        _copy(
            conn,
            "sequence_enrollments",
            "sequence_id, contact_id, user_id",
            ((1 + c % 10, c, contact_owner[c - 1]) for c in enrolled),
        )
        for table in ("users", "companies", "contacts", "leads", "tasks", "meetings", "sequences"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        conn.commit()
    print(f"seeded in {time.perf_counter() - started:.0f} s; vacuuming")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"ready after {time.perf_counter() - started:.0f} s")


def is_seeded(url: str) -> bool:
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM users WHERE email LIKE '%@bench.example'")
            found = row.fetchone()
            return bool(found and found[0])
    except psycopg.Error:
        return False
