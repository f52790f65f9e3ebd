"""What the benchmarks share: the addresses and token of a running stack (`make run`), or, for
those that need no stack, a database of their own that they make, migrate and seed."""

import argparse
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg

from db.migrate import upgrade
from devstack.postgres import create_database, drop_database


def stack_arguments(description: str | None, *, concurrency: int) -> argparse.ArgumentParser:
    """A parser with the stack's addresses, the data dir, --leads, --concurrency and --rounds."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--api", default=f"http://127.0.0.1:{os.environ.get('LEADPIPE_API_PORT', '8000')}"
    )
    parser.add_argument(
        "--temporal",
        default=os.environ.get(
            "LEADPIPE_TEMPORAL_ADDRESS",
            f"127.0.0.1:{os.environ.get('LEADPIPE_TEMPORAL_PORT', '7233')}",
        ),
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("LEADPIPE_DATA_DIR", ".leadpipe"))
    )
    parser.add_argument("--leads", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=concurrency)
    parser.add_argument(
        "--rounds", type=int, default=1, help="repeat the measurements; medians follow"
    )
    return parser


def admin_headers(data_dir: Path) -> dict[str, str]:
    """LEADPIPE_ADMIN_TOKEN, else the token `make run` keeps in the data dir."""
    token = os.environ.get("LEADPIPE_ADMIN_TOKEN") or (data_dir / "admin-token").read_text().strip()
    return {"Authorization": f"Bearer {token}"}


def database_arguments(description: str | None, *, name: str) -> argparse.ArgumentParser:
    """A parser with --server, --name, --reuse and --keep: the database a benchmark seeds."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--server",
        default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="any database on the PostgreSQL server to use",
    )
    parser.add_argument("--name", default=name)
    parser.add_argument("--reuse", action="store_true", help="keep a database seeded before")
    parser.add_argument("--keep", action="store_true", help="do not drop the database after")
    return parser


def has_rows(url: str, counts: Mapping[str, int]) -> bool:
    """The database exists and these tables hold exactly these numbers of rows."""
    query = "SELECT " + ", ".join(f"(SELECT count(*) FROM {table})" for table in counts)
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute(query).fetchone()
    except psycopg.Error:
        return False
    return row is not None and tuple(row) == tuple(counts.values())


def run_seed(url: str, script: str, params: Mapping[str, Any]) -> float:
    """Run a seed script in one transaction, then VACUUM ANALYZE; returns the seconds taken."""
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        # One statement at a time: parameters go through the extended protocol.
        for statement in (s.strip() for s in script.split(";\n")):
            if statement:
                conn.execute(statement, params)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


@contextmanager
def seeded_database(
    args: argparse.Namespace, *, is_seeded: Callable[[str], bool], seed: Callable[[str], float]
) -> Iterator[str]:
    """The URL of database `args.name` on `args.server`, migrated and seeded: made afresh, or
    with --reuse kept when `is_seeded` says so; dropped afterwards unless --keep."""
    if not args.reuse:
        drop_database(args.server, args.name)
    url = create_database(args.server, args.name)
    upgrade(url)
    if args.reuse and is_seeded(url):
        print(f"reusing {args.name}")
    else:
        print(f"seeded {args.name} in {seed(url):.0f} s")
    try:
        yield url
    finally:
        if not args.keep:
            drop_database(args.server, args.name)


async def new_rep(api: httpx.AsyncClient) -> dict[str, Any]:
    """A sales user of a fresh seat, to own the benchmark's leads."""
    response = await api.post(
        "/v1/users",
        json={
            "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
            "name": "Bench Rep",
            "role": "sales_user",
            "seat": "current",
        },
    )
    response.raise_for_status()
    rep: dict[str, Any] = response.json()
    return rep
