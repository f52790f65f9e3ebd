"""The deals tab and deal insights at scale: latency of each view, of search, of the overview
and of insights over 100 engagements, on a database seeded to a large sales team's size.

    .venv/bin/python -m bench.deals --server postgresql://postgres@127.0.0.1:5432/postgres

It creates (or, with `--reuse`, keeps) the database `--name` on that server, migrates it, and
seeds it in SQL: `--reps` sales reps with a current seat, 100k contacts, `--leads` leads,
`--deals` deals (80% open, spread over the default pipeline's open stages), a year of stage
history, meetings and tasks on the deals, and `--activities` activities across deals and
contacts. The first 100 deals, one per rep, get 150 engagements more each (emails with bodies,
replies, notes, meetings with their records), so insights read a full 100.

The API runs in this process (the ASGI app over httpx, no network, no Temporal: the deals tab
reads PostgreSQL only), one request at a time, each as a random rep. It prints p50, p95 and
p99 per request kind, after a warm-up that is not counted. See bench/README.md.
"""

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable

import httpx
import psycopg

from api.app import create_app
from bench.stack import database_arguments, has_rows, run_seed, seeded_database
from config import Settings, to_sqlalchemy_url
from db.engine import create_engine, create_session_factory

HEAVY_DEALS = 100
HEAVY_ENGAGEMENTS = 150

SEED = """
SELECT setseed(0.42);

INSERT INTO users (email, name, role, seat, time_zone, token_hash)
SELECT 'rep' || g || '@bench.example', 'Rep ' || g, 'sales_user', 'current', 'Europe/Helsinki',
       encode(sha256(convert_to('bench-rep-' || g, 'UTF8')), 'hex')
FROM generate_series(1, %(reps)s) g;

INSERT INTO companies (name, domain, owner_id)
SELECT 'Company ' || g, 'buyer' || g || '.example', 1 + g %% %(reps)s
FROM generate_series(1, 10000) g;

INSERT INTO contacts (email, first_name, last_name, company_id, owner_id, lifecycle_stage)
SELECT 'c' || g || '@buyer' || (1 + g %% 10000) || '.example', 'First' || g, 'Last' || g,
       1 + g %% 10000, 1 + g %% %(reps)s, 'opportunity'
FROM generate_series(1, 100000) g;

INSERT INTO leads (name, contact_id, pipeline_id, stage_id, owner_id)
SELECT 'Lead ' || g, 1 + g %% 100000, p.id, s.id, 1 + g %% %(reps)s
FROM generate_series(1, %(leads)s) g,
     (SELECT id FROM pipelines WHERE object = 'lead' AND is_default) p,
     LATERAL (SELECT id FROM stages WHERE pipeline_id = p.id ORDER BY position LIMIT 1) s;

CREATE TEMP TABLE deal_stage_ids AS
SELECT array_agg(s.id ORDER BY s.position) FILTER (WHERE s.kind = 'open') AS open_ids,
       array_agg(s.id ORDER BY s.position) FILTER (WHERE s.kind <> 'open') AS closed_ids,
       min(p.id) AS pipeline_id
FROM pipelines p JOIN stages s ON s.pipeline_id = p.id
WHERE p.object = 'deal' AND p.is_default;

-- Deal d belongs to rep 1 + (d mod reps), its contact is 1 + (7 d mod 100000).
INSERT INTO deals (name, amount, close_date, pipeline_id, stage_id, owner_id, contact_id,
                   stage_entered_at, created_at, updated_at)
SELECT (ARRAY['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli'])[1 + g %% 5] || ' deal ' || g,
       CASE WHEN random() < 0.05 THEN NULL ELSE round((random() * 100000)::numeric, 2) END,
       CASE WHEN random() < 0.1 THEN NULL ELSE current_date + (random() * 180 - 90)::int END,
       d.pipeline_id,
       CASE WHEN g <= %(heavy)s OR random() < 0.8
            THEN d.open_ids[1 + floor(random() * array_length(d.open_ids, 1))::int]
            ELSE d.closed_ids[1 + floor(random() * array_length(d.closed_ids, 1))::int] END,
       1 + g %% %(reps)s,
       1 + (7 * g) %% 100000,
       now() - random() * interval '60 days',
       now() - interval '400 days' + random() * interval '30 days',
       now()
FROM generate_series(1, %(deals)s) g, deal_stage_ids d;

INSERT INTO deal_stage_changes (deal_id, at, from_stage_id, to_stage_id, seconds_in_from_stage)
SELECT 1 + (random() * (%(deals)s - 1))::int,
       now() - random() * interval '364 days',
       d.open_ids[k],
       CASE WHEN k < array_length(d.open_ids, 1) THEN d.open_ids[k + 1] ELSE d.closed_ids[1] END,
       86400 * (1 + 40 * random() * random())
FROM (SELECT g, 1 + g %% 5 AS k FROM generate_series(1, %(deals)s * 2) g) s, deal_stage_ids d;

INSERT INTO meetings (owner_id, title, start_at, end_at, outcome, deal_id)
SELECT 1 + d %% %(reps)s, 'Meeting ' || g, t, t + interval '30 minutes',
       CASE WHEN t > now() THEN 'scheduled' ELSE 'completed' END, d
FROM (SELECT g, 1 + (random() * (%(deals)s - 1))::int AS d,
             now() + (random() * 60 - 30) * interval '1 day' AS t
      FROM generate_series(1, %(deals)s * 2) g) m;

INSERT INTO tasks (title, status, due_at, owner_id, deal_id)
SELECT 'Task ' || g, CASE WHEN random() < 0.3 THEN 'open' ELSE 'completed' END,
       now() + (random() * 60 - 30) * interval '1 day', 1 + d %% %(reps)s, d
FROM (SELECT g, 1 + (random() * (%(deals)s - 1))::int AS d
      FROM generate_series(1, %(deals)s * 2) g) t;

-- Activities: 6 in 10 on a deal (logged by its owner), the rest on a contact alone.
INSERT INTO activities (event_id, type, occurred_at, user_id, contact_id, deal_id, details)
SELECT 'bench-' || g, type,
       now() - random() * interval '365 days',
       1 + CASE WHEN on_deal THEN d %% %(reps)s ELSE g %% %(reps)s END,
       CASE WHEN on_deal THEN 1 + (7 * d) %% 100000 ELSE 1 + g %% 100000 END,
       CASE WHEN on_deal THEN d END,
       CASE type
         WHEN 'note' THEN jsonb_build_object('note', jsonb_build_object(
           'body', 'Spoke with the buyer about rollout number ' || g || '.'))
         WHEN 'call' THEN '{"call": {"status": "completed", "outcome": "connected"}}'::jsonb
         WHEN 'meeting' THEN '{"meeting": {"outcome": "completed"}}'::jsonb
         WHEN 'email_open' THEN '{}'::jsonb
         ELSE jsonb_build_object('email', jsonb_build_object(
           'subject', 'Proposal ' || g,
           'body', 'Hello, following up on the proposal we sent. Let me know your thoughts.'))
       END
FROM (SELECT g, random() < 0.6 AS on_deal, 1 + (random() * (%(deals)s - 1))::int AS d,
             (ARRAY['email_sent', 'email_sent', 'email_sent', 'email_reply', 'email_open',
                    'email_open', 'note', 'note', 'call', 'meeting'])[1 + g %% 10] AS type
      FROM generate_series(1, %(activities)s) g) a;

-- The heavy deals: 150 engagements each in the last 60 days, meetings with their records.
INSERT INTO meetings (owner_id, title, start_at, end_at, outcome, deal_id, notes)
SELECT 1 + d %% %(reps)s, 'Review ' || n, now() - n * interval '2 days',
       now() - n * interval '2 days' + interval '1 hour', 'completed', d,
       'CFO: "Our goal is to cut onboarding to a week." Not sure about timing.'
FROM generate_series(1, %(heavy)s) d, generate_series(1, 15) n;

INSERT INTO activities (event_id, type, occurred_at, user_id, contact_id, deal_id, meeting_id,
                        details)
SELECT 'bench-heavy-meeting-' || m.id, 'meeting', m.start_at, m.owner_id,
       1 + (7 * m.deal_id) %% 100000, m.deal_id, m.id, '{}'::jsonb
FROM meetings m WHERE m.title LIKE 'Review %%';

INSERT INTO activities (event_id, type, occurred_at, user_id, contact_id, deal_id, details)
SELECT 'bench-heavy-' || d || '-' || n, type,
       now() - n * interval '9 hours', 1 + d %% %(reps)s, 1 + (7 * d) %% 100000,
       CASE WHEN n %% 3 = 0 THEN NULL ELSE d END,
       CASE type
         WHEN 'note' THEN jsonb_build_object('note', jsonb_build_object('body',
           'Jo said: "We need SSO before the rollout." Budget is tight this quarter.'))
         WHEN 'call' THEN '{"call": {"status": "completed"}}'::jsonb
         WHEN 'email_reply' THEN jsonb_build_object('email', jsonb_build_object(
           'subject', 'Re: proposal ' || n,
           'body', E'Thanks. Our priority is a faster rollout. We are not sure about the price.'
                   || E'\\n> earlier text'))
         ELSE jsonb_build_object('email', jsonb_build_object(
           'subject', 'Proposal ' || n,
           'body', 'Hi, attached is the revised proposal after the budget cut you mentioned.'))
       END
FROM generate_series(1, %(heavy)s) d,
     generate_series(1, %(heavy_engagements)s - 15) n,
     LATERAL (SELECT (ARRAY['email_sent', 'email_reply', 'note', 'call'])[1 + n %% 4] AS type) t;
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def seed(url: str, args: argparse.Namespace) -> float:
    params = {
        "reps": args.reps,
        "leads": args.leads,
        "deals": args.deals,
        "activities": args.activities,
        "heavy": HEAVY_DEALS,
        "heavy_engagements": HEAVY_ENGAGEMENTS,
    }
    return run_seed(url, SEED, params)


Request = Callable[[httpx.AsyncClient, int, random.Random], Awaitable[httpx.Response]]


def headers(rep: int) -> dict[str, str]:
    return {"Authorization": f"Bearer bench-rep-{rep}"}


def view(name: str) -> Request:
    async def send(http: httpx.AsyncClient, rep: int, rng: random.Random) -> httpx.Response:
        return await http.get("/v1/deals", params={"view": name}, headers=headers(rep))

    return send


async def search(http: httpx.AsyncClient, rep: int, rng: random.Random) -> httpx.Response:
    body = {
        "filters": [
            {"property": "amount", "op": "gte", "value": rng.choice([1000, 20000, 50000])},
            {"property": "name", "op": "contains", "value": rng.choice(["acme", "globex"])},
            {"property": "close_date", "op": "is_set"},
        ],
        "sort": {"property": "close_date", "direction": "desc"},
    }
    return await http.post("/v1/deals:search", json=body, headers=headers(rep))


async def team_search(http: httpx.AsyncClient, rep: int, rng: random.Random) -> httpx.Response:
    team = rng.sample(range(1, 101), 10)
    body = {
        "filters": [
            {"property": "owner_id", "op": "in", "value": team},
            {"property": "amount", "op": "gt", "value": 50000},
        ],
        "sort": {"property": "amount", "direction": "desc"},
    }
    return await http.post("/v1/deals:search", json=body, headers=headers(rep))


def heavy_deal(rep: int, reps: int) -> int:
    """The heavy deal rep `rep` owns: deal d belongs to rep 1 + d % reps."""
    return next(d for d in range(1, HEAVY_DEALS + 1) if 1 + d % reps == rep)


def one_deal(path: str, reps: int) -> Request:
    async def send(http: httpx.AsyncClient, rep: int, rng: random.Random) -> httpx.Response:
        return await http.get(f"/v1/deals/{heavy_deal(rep, reps)}/{path}", headers=headers(rep))

    return send


async def measure(
    http: httpx.AsyncClient, send: Request, count: int, reps: int, rng: random.Random
) -> list[float]:
    times = []
    for _ in range(count):
        rep = rng.randint(1, min(reps, HEAVY_DEALS))
        started = time.perf_counter()
        response = await send(http, rep, rng)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{response.request.url}: {response.status_code} {response.text}")
    return times


async def run(url: str, args: argparse.Namespace) -> None:
    settings = Settings(database_url=url, log_level="WARNING", log_json=False)
    app = create_app(settings)
    engine = create_engine(to_sqlalchemy_url(url))
    app.state.settings = settings
    app.state.session_factory = create_session_factory(engine)
    app.state.orchestrator = None  # the deals tab never reaches Temporal
    kinds: dict[str, Request] = {
        "GET /deals?view=all_open": view("all_open"),
        "GET /deals?view=no_activity_scheduled": view("no_activity_scheduled"),
        "GET /deals?view=closing_this_month": view("closing_this_month"),
        "GET /deals?view=stalled": view("stalled"),
        "POST /deals:search (own deals, 3 filters)": search,
        "POST /deals:search (10 owners, by amount)": team_search,
        "GET /deals/{id}/overview": one_deal("overview", args.reps),
        "GET /deals/{id}/insights (100 engagements)": one_deal("insights", args.reps),
    }
    rng = random.Random(7)
    results: dict[str, list[list[float]]] = {k: [] for k in kinds}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        for send in kinds.values():
            await measure(http, send, args.warmup, args.reps, rng)
        sample = (
            await http.get(f"/v1/deals/{heavy_deal(1, args.reps)}/insights", headers=headers(1))
        ).json()
        print(
            f"insights read {sample['based_on']['activities']} engagements; risks: "
            + ", ".join(r["kind"] for r in sample["risks"])
        )
        for _ in range(args.rounds):
            for name, send in kinds.items():
                results[name].append(await measure(http, send, args.requests, args.reps, rng))
        stale = await stale_norms(http, url)
    await engine.dispose()
    print(f"\n{args.requests} requests per kind and round, {args.rounds} rounds, one at a time")
    print(f"{'request':46} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}   p95 per round")
    for name, rounds in results.items():
        every = [t for r in rounds for t in r]
        per_round = ", ".join(f"{percentile(r, 0.95):.1f}" for r in rounds)
        print(
            f"{name:46} {statistics.median(every):8.1f} {percentile(every, 0.95):8.1f} "
            f"{percentile(every, 0.99):8.1f}   {per_round}"
        )
    print(f"stalled, norms recomputed from the year's history: {stale:.1f} ms (once an hour)")


async def stale_norms(http: httpx.AsyncClient, url: str) -> float:
    """One stalled list that recomputes every stage norm first."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE deal_stage_norms SET computed_at = now() - interval '1 day'")
    started = time.perf_counter()
    response = await http.get("/v1/deals", params={"view": "stalled"}, headers=headers(1))
    assert response.status_code == 200, response.text
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = database_arguments(__doc__, name="leadpipe_bench_deals")
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--deals", type=int, default=50_000)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.reps < HEAVY_DEALS:
        parser.error(f"--reps must be at least {HEAVY_DEALS}: each heavy deal has its own rep")
    with seeded_database(
        args,
        is_seeded=lambda url: has_rows(url, {"users": args.reps, "deals": args.deals}),
        seed=lambda url: seed(url, args),
    ) as url:
        asyncio.run(run(url, args))


if __name__ == "__main__":
    main()
