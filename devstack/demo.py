"""A demo to watch: reps, contacts and leads, then a stream of sales activity that moves them.

Run against a running stack (`make run`, then `make demo` in another terminal). Leads move in
`GET /v1/leads` and in the Temporal UI; the script prints the visibility queries to try there.
"""

import argparse
import asyncio
import random
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from config import Settings, get_settings

PEOPLE = [
    ("Aino", "Virtanen", "Nordic Timber"),
    ("Mateo", "Garcia", "Solara Energy"),
    ("Priya", "Nair", "Kestrel Analytics"),
    ("Jonas", "Berg", "Fjord Logistics"),
    ("Chloe", "Martin", "Atelier Lumen"),
    ("Kenji", "Sato", "Hikari Robotics"),
]

# Each lead's story: activities in order, with a pause between them.
STORIES: list[list[dict[str, Any]]] = [
    [{"type": "email_sent"}, {"type": "email_open"}, {"type": "email_reply"}],
    [
        {"type": "call", "call": {"status": "completed", "outcome": "no_answer"}},
        {"type": "call", "call": {"status": "completed", "outcome": "connected"}},
    ],
    [{"type": "linkedin_message"}, {"type": "note"}],
    [
        {"type": "meeting", "meeting": {"outcome": "scheduled"}},
        {"type": "meeting", "meeting": {"outcome": "scheduled", "booked_by_contact": True}},
    ],
    [
        {"type": "email_sent"},
        {"type": "meeting", "meeting": {"outcome": "scheduled", "booked_by_contact": True}},
    ],
    [{"type": "note"}],
]


async def run_demo(api: httpx.AsyncClient, pause: float, settings: Settings) -> None:
    suffix = uuid.uuid4().hex[:6]
    reps = []
    for name in ("Sara Sales", "Oskar Outreach"):
        response = await api.post(
            "/v1/users",
            json={
                "email": f"{name.split()[0].lower()}-{suffix}@example.com",
                "name": name,
                "role": "sales_user",
                "seat": "current",
            },
        )
        response.raise_for_status()
        reps.append(response.json())
    leads: list[tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]] = []
    for i, (first, last, company_name) in enumerate(PEOPLE):
        owner = reps[i % len(reps)]
        company = (
            await api.post(
                "/v1/companies",
                json={"name": company_name, "domain": f"{company_name.split()[0].lower()}.example"},
            )
        ).json()
        contact = (
            await api.post(
                "/v1/contacts",
                json={
                    "first_name": first,
                    "last_name": last,
                    "company_id": company["id"],
                    "owner_id": owner["id"],
                    "email": f"{first.lower()}@{company['domain']}",
                },
            )
        ).json()
        lead = (
            await api.post(
                "/v1/leads",
                json={
                    "contact_id": contact["id"],
                    "company_id": company["id"],
                    "owner_id": owner["id"],
                    "label": random.choice(["hot", "warm", "cold"]),
                },
            )
        ).json()
        leads.append((lead, owner, STORIES[i % len(STORIES)]))
        print(f"lead {lead['id']:>4}  {lead['name']:<36} owner {owner['name']}")
    stages = {
        s["id"]: s["label"]
        for s in (await api.get(f"/v1/pipelines/{leads[0][0]['pipeline_id']}")).json()["stages"]
    }

    for step in range(max(len(s) for _, _, s in leads)):
        await asyncio.sleep(pause)
        for lead, owner, story in leads:
            if step < len(story):
                activity = {
                    "event_id": f"demo-{uuid.uuid4().hex}",
                    "lead_id": lead["id"],
                    "user_id": owner["id"],
                    "occurred_at": datetime.now(UTC).isoformat(),
                    **story[step],
                }
                (await api.post("/v1/activities", json=activity)).raise_for_status()
                print(f"  posted {activity['type']:<17} for lead {lead['id']}")
    await asyncio.sleep(1.0)
    print("\nwhere the leads are now:")
    for lead, _, _ in leads:
        current = (await api.get(f"/v1/leads/{lead['id']}")).json()
        print(f"  lead {current['id']:>4}  {current['name']:<36} {stages[current['stage_id']]}")
    print(
        f"\nIn the Temporal UI (http://127.0.0.1:{settings.temporal_ui_port}), filter workflows"
        " with:\n"
        "  LeadStage = 'Connected'\n"
        "  LeadStage = 'Attempting' AND LeadPipeline = 'Sales leads'\n"
        f"  LeadOwner = {reps[0]['id']}\n"
        f"or from a shell:\n  {cli_hint(settings)}"
    )


def cli_hint(settings: Settings) -> str:
    """The `temporal workflow list` line for this stack's server, whatever its port."""
    return (
        f".venv/bin/temporal workflow list --address {settings.temporal_target}"
        f" --namespace {settings.temporal_namespace} --query \"LeadStage = 'Connected'\""
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    settings = get_settings()
    parser.add_argument("--api", default=f"http://127.0.0.1:{settings.api_port}")
    parser.add_argument(
        "--pause", type=float, default=1.5, help="seconds between rounds of activity"
    )
    args = parser.parse_args()
    token = settings.admin_token or (settings.data_dir / "admin-token").read_text().strip()
    async with httpx.AsyncClient(
        base_url=args.api, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as api:
        await run_demo(api, args.pause, settings)


if __name__ == "__main__":
    asyncio.run(main())
