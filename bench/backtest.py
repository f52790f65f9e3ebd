"""Backtests at scale: a 30-day replay of the default pipeline's leads, on a database seeded
to the size the requirement names (10,000 leads, 200,000 activities in the window).

    .venv/bin/python -m bench.backtest --server postgresql://postgres@127.0.0.1:5432/postgres

It creates (or, with `--reuse`, keeps) the database `--name` on that server, migrates it, and
seeds it in SQL: a super admin, `--leads` contacts with an email address and a lead each in
the default pipeline (created 40 days ago), `--activities` activities spread over the last 30
days across the leads (email_sent, call, email_reply, note, email_open, linkedin_message,
meeting), each arriving a minute after it occurred; the stored automatic moves for half the
leads, a manual move back for one lead in ten, and a 3-action chain (create_task, delay P1D,
send_email) on Attempting since 60 days ago.

It then calls the backtest services in this process (no HTTP, no Temporal), one after the
other, each `--rounds` times: the automation in force, the same with the outreach rule
switched off, and the chain on Attempting. It prints seconds per backtest (median and range),
the CPU seconds of this process and activities replayed per second. `--seconds` lifts the
services' bound on work (60 s), which a crowded machine reaches. See bench/README.md.
"""

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from bench.stack import database_arguments, has_rows, run_seed, seeded_database
from config import to_sqlalchemy_url
from db.engine import create_engine, create_session_factory
from db.models import Pipeline, Stage, User
from domain.backtests import Outcome
from services import automation as automation_service
from services import backtests
from services.backtests import Limits, WindowAsked

SEED = """
SELECT setseed(0.42);

INSERT INTO users (email, name, role, token_hash)
VALUES ('admin@bench.example', 'Admin', 'super_admin',
        encode(sha256(convert_to('bench-admin', 'UTF8')), 'hex'));

INSERT INTO contacts (email, first_name, last_name)
SELECT 'buyer' || g || '@bench.example', 'Buyer', 'No ' || g
FROM generate_series(1, %(leads)s) g;

CREATE TEMP TABLE default_stages AS
SELECT p.id AS pipeline_id, array_agg(s.id ORDER BY s.position) AS ids
FROM pipelines p JOIN stages s ON s.pipeline_id = p.id
WHERE p.object = 'lead' AND p.is_default GROUP BY p.id;

INSERT INTO leads (name, contact_id, pipeline_id, stage_id, auto_progression)
SELECT 'Lead ' || g, g, d.pipeline_id,
       CASE WHEN g %% 10 = 0 THEN d.ids[1] WHEN g %% 2 = 0 THEN d.ids[3] ELSE d.ids[1] END,
       g %% 10 <> 0
FROM generate_series(1, %(leads)s) g, default_stages d;

INSERT INTO lead_stage_history (lead_id, at, from_stage_id, to_stage_id, cause)
SELECT l.id, now() - interval '40 days', NULL, d.ids[1], 'created'
FROM leads l, default_stages d;

INSERT INTO lead_stage_history (lead_id, at, from_stage_id, to_stage_id, cause)
SELECT l.id, now() - interval '29 days', d.ids[1], d.ids[2], 'automation:advance_on_outreach'
FROM leads l, default_stages d WHERE l.id %% 2 = 0;

INSERT INTO lead_stage_history (lead_id, at, from_stage_id, to_stage_id, cause)
SELECT l.id, now() - interval '20 days', d.ids[2], d.ids[3], 'automation:advance_on_connect'
FROM leads l, default_stages d WHERE l.id %% 2 = 0;

INSERT INTO lead_stage_history (lead_id, at, from_stage_id, to_stage_id, cause)
SELECT l.id, now() - interval '10 days', d.ids[3], d.ids[1], 'manual'
FROM leads l, default_stages d WHERE l.id %% 10 = 0;

INSERT INTO activities (event_id, type, occurred_at, created_at, contact_id, lead_id,
                        delivered_lead_ids, details)
SELECT 'bench-' || g, type, at, at + interval '1 minute', lead_id, lead_id, ARRAY[lead_id],
       CASE type
         WHEN 'call' THEN jsonb_build_object('call', jsonb_build_object(
           'status', 'completed', 'outcome', CASE WHEN g %% 3 = 0 THEN 'connected'
                                                  ELSE 'no_answer' END))
         WHEN 'meeting' THEN '{"meeting": {"outcome": "scheduled"}}'::jsonb
         ELSE '{}'::jsonb
       END
FROM (SELECT g, 1 + g %% %(leads)s AS lead_id,
             now() - interval '30 days' + random() * interval '30 days' - interval '2 minutes'
               AS at,
             (ARRAY['email_sent', 'call', 'email_reply', 'note', 'email_open',
                    'linkedin_message', 'meeting'])[1 + g %% 7] AS type
      FROM generate_series(1, %(activities)s) g) a;

INSERT INTO chain_versions (pipeline_id, stage_id, version, actions, created_at)
SELECT d.pipeline_id, d.ids[2], 1,
       '[{"id": "a_00000001", "type": "create_task", "config": {"title": "Call"}},
         {"id": "a_00000002", "type": "delay", "config": {"duration": "P1D"}},
         {"id": "a_00000003", "type": "send_email",
          "config": {"subject": "Hi", "body": "Hello {{contact.first_name}}"}}]'::jsonb,
       now() - interval '60 days'
FROM default_stages d
"""


def seed(url: str, args: argparse.Namespace) -> float:
    return run_seed(url, SEED, {"leads": args.leads, "activities": args.activities})


async def run(url: str, args: argparse.Namespace) -> None:
    engine = create_engine(to_sqlalchemy_url(url))
    factory = create_session_factory(engine)
    async with factory() as session:
        actor = await session.scalar(select(User).where(User.role == "super_admin"))
        pipeline = await session.scalar(
            select(Pipeline).where(Pipeline.object == "lead", Pipeline.is_default.is_(True))
        )
        assert actor is not None and pipeline is not None
        attempting = await session.scalar(
            select(Stage.id)
            .where(Stage.pipeline_id == pipeline.id)
            .order_by(Stage.position)
            .offset(1)
            .limit(1)
        )
        assert attempting is not None
        in_force = await automation_service.get_automation(session, pipeline.id)
        pipeline_id = pipeline.id
    off = in_force.model_copy(
        update={
            "advance_on_outreach": in_force.advance_on_outreach.model_copy(
                update={"enabled": False}
            )
        }
    )
    chain = [
        {"type": "create_task", "config": {"title": "Call"}},
        {"type": "delay", "config": {"until_event": "email_reply", "timeout": "P3D"}},
        {"type": "send_email", "config": {"subject": "Hi", "body": "Hello"}},
    ]
    asked = WindowAsked(days=30)
    limits = Limits(seconds=args.seconds)

    async def automation_in_force() -> Outcome:
        async with factory() as session:
            return await backtests.backtest_automation(
                session, actor, pipeline_id, in_force, asked=asked, limits=limits
            )

    async def outreach_off() -> Outcome:
        async with factory() as session:
            return await backtests.backtest_automation(
                session, actor, pipeline_id, off, asked=asked, limits=limits
            )

    async def chain_on_attempting() -> Outcome:
        async with factory() as session:
            return await backtests.backtest_chain(
                session, actor, pipeline_id, attempting, chain, asked, limits=limits
            )

    kinds: dict[str, Callable[[], Awaitable[Outcome]]] = {
        "automation in force": automation_in_force,
        "outreach switched off": outreach_off,
        "chain on Attempting": chain_on_attempting,
    }
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name, backtest in kinds.items():
        seconds: list[float] = []
        cpu: list[float] = []
        outcome: Outcome | None = None
        for _ in range(args.rounds):
            started, started_cpu = time.perf_counter(), time.process_time()
            outcome = await backtest()
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        assert outcome is not None
        median = statistics.median(seconds)
        rows = outcome.activities_considered
        print(
            f"{name}: {median:.2f} s median ({min(seconds):.2f}-{max(seconds):.2f}), "
            f"{statistics.median(cpu):.2f} s CPU in this process, "
            f"{outcome.leads_considered} leads, {rows} activities, {rows / median:,.0f} rows/s, "
            f"truncated={outcome.truncated is not None}, approximate={outcome.approximate}"
        )
        for c in outcome.moves.comparisons():
            print(f"    moves {c.key}: proposed {c.proposed}, actual {c.actual}")
        for c in outcome.effects.comparisons():
            print(f"    effects {c.key}: proposed {c.proposed}, actual {c.actual}")
    print(f"load average {os.getloadavg()[0]:.1f} after the runs")
    await engine.dispose()


def main() -> None:
    parser = database_arguments(__doc__, name="leadpipe_bench_backtest")
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--activities", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--seconds",
        type=float,
        default=Limits().seconds,
        help="the services' bound on seconds of work (past it they answer truncated)",
    )
    args = parser.parse_args()
    with seeded_database(
        args,
        is_seeded=lambda url: has_rows(url, {"leads": args.leads, "activities": args.activities}),
        seed=lambda url: seed(url, args),
    ) as url:
        asyncio.run(run(url, args))


if __name__ == "__main__":
    main()
