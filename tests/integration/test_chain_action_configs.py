"""Saving chains with the marketing and CRM-and-data actions (ACT-2, ACT-3): each config is
checked on save, records it names must exist, and a refusal names the field and stores
nothing."""

import uuid
from typing import Any

import pytest

from tests.stack import Api


@pytest.fixture
async def chain(admin: Api, make_pipeline) -> str:
    pipeline = await make_pipeline("lead")
    return f"/pipelines/{pipeline['id']}/stages/{pipeline['stages'][1]['id']}/chain"


@pytest.fixture
async def records(admin: Api, make_pipeline) -> dict[str, Any]:
    """A sequence, a list and a deal pipeline to name in configs."""
    sequence = await admin.ok("post", "/sequences", {"name": f"S {uuid.uuid4().hex}"}, status=201)
    contact_list = await admin.ok("post", "/lists", {"name": f"L {uuid.uuid4().hex}"}, status=201)
    deals = await make_pipeline("deal")
    return {"sequence": sequence["id"], "list": contact_list["id"], "deals": deals}


def every_new_action(records: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"type": "enroll_in_sequence", "config": {"sequence_id": records["sequence"]}},
        {"type": "unenroll_from_sequence", "config": {"sequence_id": records["sequence"]}},
        {"type": "add_to_list", "config": {"list_id": records["list"]}},
        {"type": "remove_from_list", "config": {"list_id": records["list"]}},
        {
            "type": "update_deal",
            "config": {"stage_id": records["deals"]["stages"][1]["id"], "amount": "900"},
        },
        {"type": "copy_property", "config": {"from": "contact.first_name", "to": "lead.name"}},
        {"type": "set_lead_label", "config": {"label": "hot"}},
    ]


async def refused(api: Api, path: str, actions: list[dict[str, Any]]) -> tuple[str, str]:
    response = await api.put(path, {"actions": actions})
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert (await api.ok("get", path))["version"] == 0  # nothing stored
    return error["field"], error["rule"]


async def test_every_new_action_type_saves_and_dry_runs_act_2(
    admin, chain, records, make_lead
) -> None:
    saved = await admin.ok("put", chain, {"actions": every_new_action(records)})
    assert [a["type"] for a in saved["actions"]] == [a["type"] for a in every_new_action(records)]
    lead = await make_lead(label="cold")
    steps = (await admin.ok("post", f"{chain}:dry-run", {"lead_id": lead["id"]}))["steps"]
    summaries = [s["summary"] for s in steps]
    assert summaries[0] == f"enroll contact {lead['contact_id']} in sequence {records['sequence']}"
    assert summaries[4] == "skip: the lead has no deal"
    assert summaries[5] == "copy contact.first_name ('Jo') to lead.name"
    assert summaries[6] == "label the lead hot"


@pytest.mark.parametrize(
    ("action", "field", "rule"),
    [
        (
            {"type": "enroll_in_sequence", "config": {"sequence_id": 2147483647}},
            "actions.0.config.sequence_id",
            "exists",
        ),
        (
            {"type": "enroll_in_sequence", "config": {"sequence_id": "SEQ", "user_id": 2147483647}},
            "actions.0.config.user_id",
            "exists",
        ),
        (
            {"type": "unenroll_from_sequence", "config": {"sequence_id": 2147483647}},
            "actions.0.config.sequence_id",
            "exists",
        ),
        (
            {"type": "add_to_list", "config": {"list_id": 2147483647}},
            "actions.0.config.list_id",
            "exists",
        ),
        ({"type": "remove_from_list", "config": {}}, "actions.0.config.list_id", "missing"),
        (
            {"type": "update_deal", "config": {"stage_id": "LEAD_STAGE"}},
            "actions.0.config.stage_id",
            "deal_stage",
        ),
        ({"type": "update_deal", "config": {}}, "actions.0.config", "not_empty"),
        (
            {"type": "update_deal", "config": {"close_in": "P1D", "close_date": "2031-01-01"}},
            "actions.0.config",
            "one_of",
        ),
        (
            {"type": "copy_property", "config": {"from": "lead.name", "to": "contact.first_name"}},
            "actions.0.config.to",
            "incompatible_properties",
        ),
        (
            {"type": "copy_property", "config": {"from": "contact.email", "to": "lead.label"}},
            "actions.0.config.to",
            "incompatible_properties",
        ),
        (
            {"type": "copy_property", "config": {"from": "owner.name", "to": "lead.name"}},
            "actions.0.config.to",
            "copy_direction",
        ),
        (
            {"type": "copy_property", "config": {"from": "lead.nope", "to": "lead.name"}},
            "actions.0.config.from",
            "unknown_property",
        ),
        (
            {"type": "set_lead_label", "config": {"label": "lukewarm"}},
            "actions.0.config.label",
            "enum",
        ),
    ],
)
async def test_a_bad_config_is_refused_naming_the_field_act_3(
    admin, chain, records, lead_stages, action, field, rule
) -> None:
    config = dict(action["config"])
    for name, value in config.items():
        if value == "SEQ":
            config[name] = records["sequence"]
        if value == "LEAD_STAGE":
            config[name] = next(iter(lead_stages.values()))
    assert await refused(admin, chain, [{**action, "config": config}]) == (field, rule)


async def test_an_inserted_action_naming_a_missing_list_is_refused_at_its_path(
    admin, chain
) -> None:
    await admin.ok(
        "put", chain, {"actions": [{"type": "set_lead_label", "config": {"label": "warm"}}]}
    )
    response = await admin.post(
        f"{chain}/actions",
        {"action": {"type": "add_to_list", "config": {"list_id": 2147483647}}, "position": 0},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "actions.0.config.list_id"


async def test_a_removed_deal_stage_fails_no_later_edit_of_other_actions(
    admin, chain, make_pipeline
) -> None:
    deals = await make_pipeline(
        "deal",
        [
            {"label": "Open", "kind": "open"},
            {"label": "Extra", "kind": "open"},
            {"label": "Won", "kind": "won"},
            {"label": "Lost", "kind": "lost"},
        ],
    )
    extra = deals["stages"][1]["id"]
    await admin.ok(
        "put", chain, {"actions": [{"type": "update_deal", "config": {"stage_id": extra}}]}
    )
    gone = await admin.delete(f"/pipelines/{deals['id']}/stages/{extra}")
    assert gone.status_code == 204, gone.text
    inserted = await admin.post(
        f"{chain}/actions", {"action": {"type": "set_lead_label", "config": {"label": "hot"}}}
    )
    assert inserted.status_code == 201, inserted.text
