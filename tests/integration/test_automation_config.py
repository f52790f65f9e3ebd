"""Templated pipeline automation configuration (AUT-1, AUT-5, AUT-6, AUT-10, DIS-8, PERM-1)."""

import copy
import uuid
from typing import Any

import pytest

OUTREACH = ["email_sent", "linkedin_message", "call", "meeting_scheduled"]
CONNECT = ["email_reply", "meeting_booked_by_contact", "call_connected"]


def stage_id(pipeline: dict[str, Any], label: str) -> int:
    found: int = next(s["id"] for s in pipeline["stages"] if s["label"] == label)
    return found


class TestDefaults:
    async def test_the_default_pipeline_starts_new_attempting_connected_aut_1(
        self, admin, lead_stages
    ) -> None:
        """AUT-1, AUT-3, AUT-4: every rule present, the defaults in place."""
        pipelines = await admin.ok("get", "/pipelines?object=lead")
        default = next(p for p in pipelines if p["is_default"])
        rules = await admin.ok("get", f"/pipelines/{default['id']}/automation")
        assert rules["advance_on_outreach"] == {
            "enabled": True,
            "from_stage_id": lead_stages["New"],
            "to_stage_id": lead_stages["Attempting"],
            "events": OUTREACH,
        }
        assert rules["advance_on_connect"] == {
            "enabled": True,
            "from_stage_id": lead_stages["Attempting"],
            "to_stage_id": lead_stages["Connected"],
            "events": CONNECT,
        }
        assert rules["follow_up_on_disqualify"] == {
            "enabled": False,
            "lead_type": None,
            "reason_ids": [],
        }

    async def test_a_new_pipeline_gets_rules_on_its_own_open_stages_aut_1(
        self, admin, make_pipeline
    ) -> None:
        pipeline = await make_pipeline()
        rules = await admin.ok("get", f"/pipelines/{pipeline['id']}/automation")
        assert rules["advance_on_outreach"]["from_stage_id"] == stage_id(pipeline, "New")
        assert rules["advance_on_outreach"]["to_stage_id"] == stage_id(pipeline, "Working")
        assert rules["advance_on_connect"]["to_stage_id"] == stage_id(pipeline, "Talking")

    async def test_a_pipeline_with_one_open_stage_gets_the_rules_switched_off_aut_1(
        self, admin, make_pipeline
    ) -> None:
        pipeline = await make_pipeline(
            stages=[
                {"label": "Only", "kind": "open"},
                {"label": "Yes", "kind": "qualified"},
                {"label": "No", "kind": "disqualified"},
            ]
        )
        rules = await admin.ok("get", f"/pipelines/{pipeline['id']}/automation")
        for name, events in (("advance_on_outreach", OUTREACH), ("advance_on_connect", CONNECT)):
            assert rules[name] == {
                "enabled": False,
                "from_stage_id": None,
                "to_stage_id": None,
                "events": events,
            }

    async def test_deal_and_unknown_pipelines_have_no_automation(
        self, admin, make_pipeline
    ) -> None:
        deal = await make_pipeline("deal")
        assert (await admin.get(f"/pipelines/{deal['id']}/automation")).status_code == 404
        assert (await admin.get("/pipelines/987654/automation")).status_code == 404


class TestSaving:
    async def test_a_disabled_rule_keeps_its_parameters_aut_1(self, admin, make_pipeline) -> None:
        """AUT-1, AUT-5: rules are switched off, never deleted; edits are kept."""
        pipeline = await make_pipeline()
        path = f"/pipelines/{pipeline['id']}/automation"
        rules = await admin.ok("get", path)
        rules["advance_on_outreach"] = {
            "enabled": False,
            "from_stage_id": stage_id(pipeline, "New"),
            "to_stage_id": stage_id(pipeline, "Talking"),
            "events": ["call"],
        }
        saved = await admin.ok("put", path, rules)
        assert saved == rules
        assert await admin.ok("get", path) == rules

    async def test_rules_cannot_be_deleted_or_added_aut_5(self, admin, make_pipeline) -> None:
        """AUT-5: a PUT without a rule, or with another rule, is refused."""
        pipeline = await make_pipeline()
        path = f"/pipelines/{pipeline['id']}/automation"
        rules = await admin.ok("get", path)
        without = {k: v for k, v in rules.items() if k != "advance_on_connect"}
        assert (await admin.put(path, without)).status_code == 422
        extra = {**rules, "advance_on_meeting": rules["advance_on_connect"]}
        assert (await admin.put(path, extra)).status_code == 422
        assert (await admin.delete(path)).status_code == 405
        assert await admin.ok("get", path) == rules

    @pytest.mark.parametrize(
        ("rule", "change", "field", "error"),
        [
            ("advance_on_outreach", {"events": []}, "advance_on_outreach.events", "too_short"),
            (
                "advance_on_outreach",
                {"events": ["email_reply"]},
                "advance_on_outreach.events",
                "event_of_rule",
            ),
            (
                "advance_on_connect",
                {"events": ["call"]},
                "advance_on_connect.events",
                "event_of_rule",
            ),
            (
                "advance_on_connect",
                {"events": ["fax"]},
                "advance_on_connect.events.0",
                "enum",
            ),
            (
                "advance_on_outreach",
                {"to_stage_id": "same"},
                "advance_on_outreach.to_stage_id",
                "differs_from_from_stage",
            ),
            (
                "advance_on_outreach",
                {"to_stage_id": 987654},
                "advance_on_outreach.to_stage_id",
                "stage_in_pipeline",
            ),
            (
                "advance_on_connect",
                {"to_stage_id": "Won"},
                "advance_on_connect.to_stage_id",
                "open_stage",
            ),
            (
                "advance_on_connect",
                {"from_stage_id": None},
                "advance_on_connect.from_stage_id",
                "required",
            ),
            (
                "advance_on_connect",
                {"from_stage_id": "other pipeline"},
                "advance_on_connect.from_stage_id",
                "stage_in_pipeline",
            ),
        ],
    )
    async def test_a_progression_rule_needs_its_own_events_and_two_stages_aut_6(
        self, admin, make_pipeline, rule, change, field, error
    ) -> None:
        """AUT-6: a non-empty subset of its own events; both stages in the pipeline, differing."""
        pipeline = await make_pipeline()
        other = await make_pipeline()
        path = f"/pipelines/{pipeline['id']}/automation"
        rules = await admin.ok("get", path)
        body = copy.deepcopy(rules)
        for key, value in change.items():
            if value == "same":
                value = body[rule]["from_stage_id"]
            elif value == "Won":
                value = stage_id(pipeline, "Won")
            elif value == "other pipeline":
                value = other["stages"][0]["id"]
            body[rule][key] = value
        response = await admin.put(path, body)
        assert response.status_code == 422, response.text
        assert (field, error) in {(e["field"], e["rule"]) for e in response.json()["errors"]}
        assert await admin.ok("get", path) == rules

    async def test_a_rule_pointing_backwards_is_refused_at_save_aut_6(
        self, admin, make_pipeline
    ) -> None:
        """AUT-6: automation never moves backwards, so such a rule could never fire."""
        pipeline = await make_pipeline()
        path = f"/pipelines/{pipeline['id']}/automation"
        rules = await admin.ok("get", path)
        body = copy.deepcopy(rules)
        body["advance_on_connect"]["from_stage_id"] = stage_id(pipeline, "Talking")
        body["advance_on_connect"]["to_stage_id"] = stage_id(pipeline, "New")
        response = await admin.put(path, body)
        assert response.status_code == 422
        errors = {(e["field"], e["rule"]) for e in response.json()["errors"]}
        assert errors == {("advance_on_connect.to_stage_id", "later_stage")}
        assert await admin.ok("get", path) == rules
        # Switched off, it keeps its parameters (AUT-1) and may be saved.
        body["advance_on_connect"]["enabled"] = False
        assert (await admin.ok("put", path, body))["advance_on_connect"]["to_stage_id"] == (
            stage_id(pipeline, "New")
        )

    async def test_a_reorder_making_an_enabled_rule_backward_is_a_409_naming_it_aut_6(
        self, admin, make_pipeline
    ) -> None:
        pipeline = await make_pipeline()
        new, working, talking, won, lost = (s["id"] for s in pipeline["stages"])
        order = f"/pipelines/{pipeline['id']}/stages/order"
        # Working -> Talking (advance_on_connect) would point backwards.
        response = await admin.put(order, {"ids": [talking, new, working, won, lost]})
        assert response.status_code == 409
        assert "advance_on_connect" in response.json()["detail"]
        assert [e["message"] for e in response.json()["errors"]] == [
            "this order would make advance_on_connect move leads backwards; switch the rule "
            "off or change its stages first"
        ]
        assert [
            s["id"] for s in (await admin.ok("get", f"/pipelines/{pipeline['id']}"))["stages"]
        ] == [new, working, talking, won, lost]
        # Once the rule is off, the same order is accepted.
        path = f"/pipelines/{pipeline['id']}/automation"
        rules = await admin.ok("get", path)
        rules["advance_on_connect"]["enabled"] = False
        await admin.ok("put", path, rules)
        await admin.ok("put", order, {"ids": [talking, new, working, won, lost]})

    async def test_enabling_follow_up_needs_a_type_and_a_reason_aut_10(
        self, admin, make_pipeline
    ) -> None:
        """AUT-10."""
        pipeline = await make_pipeline()
        path = f"/pipelines/{pipeline['id']}/automation"
        rules = await admin.ok("get", path)
        body = {**rules, "follow_up_on_disqualify": {"enabled": True}}
        response = await admin.put(path, body)
        assert response.status_code == 422
        assert {(e["field"], e["rule"]) for e in response.json()["errors"]} == {
            ("follow_up_on_disqualify.lead_type", "required"),
            ("follow_up_on_disqualify.reason_ids", "required"),
        }
        reason = (await admin.ok("get", "/disqualification-reasons"))[0]
        bad = {
            **rules,
            "follow_up_on_disqualify": {
                "enabled": True,
                "lead_type": "no_such_type",
                "reason_ids": [reason["id"], 987654],
            },
        }
        response = await admin.put(path, bad)
        assert {(e["field"], e["rule"]) for e in response.json()["errors"]} == {
            ("follow_up_on_disqualify.lead_type", "exists"),
            ("follow_up_on_disqualify.reason_ids", "exists"),
        }
        assert await admin.ok("get", path) == rules
        good = {
            **rules,
            "follow_up_on_disqualify": {
                "enabled": True,
                "lead_type": "re_engagement",
                "reason_ids": [reason["id"]],
            },
        }
        assert (await admin.ok("put", path, good))["follow_up_on_disqualify"] == (
            good["follow_up_on_disqualify"]
        )

    async def test_a_removed_reason_drops_out_of_the_follow_up_rule_dis_8(
        self, admin, make_pipeline
    ) -> None:
        """DIS-8: dropped from the set; a rule left with no reason switches off."""
        pipeline = await make_pipeline()
        path = f"/pipelines/{pipeline['id']}/automation"
        first, second = [
            await admin.ok(
                "post",
                "/disqualification-reasons",
                {"label": f"Follow {uuid.uuid4().hex[:6]}"},
                status=201,
            )
            for _ in range(2)
        ]
        rules = await admin.ok("get", path)
        rules["follow_up_on_disqualify"] = {
            "enabled": True,
            "lead_type": "re_engagement",
            "reason_ids": [first["id"], second["id"]],
        }
        await admin.ok("put", path, rules)
        await admin.delete(f"/disqualification-reasons/{first['id']}")
        after = (await admin.ok("get", path))["follow_up_on_disqualify"]
        assert after == {
            "enabled": True,
            "lead_type": "re_engagement",
            "reason_ids": [second["id"]],
        }
        await admin.delete(f"/disqualification-reasons/{second['id']}")
        after = (await admin.ok("get", path))["follow_up_on_disqualify"]
        assert after == {"enabled": False, "lead_type": "re_engagement", "reason_ids": []}

    async def test_sales_users_and_services_read_rules_but_get_403_on_changes_perm_1(
        self, admin, make_user, make_pipeline
    ) -> None:
        """PERM-1."""
        pipeline = await make_pipeline()
        path = f"/pipelines/{pipeline['id']}/automation"
        rules = await admin.ok("get", path)
        for role in ("sales_user", "service"):
            _, caller = await make_user(role=role)
            assert await caller.ok("get", path) == rules
            off = {
                **rules,
                "advance_on_outreach": {**rules["advance_on_outreach"], "enabled": False},
            }
            assert (await caller.put(path, off)).status_code == 403
        assert await admin.ok("get", path) == rules
