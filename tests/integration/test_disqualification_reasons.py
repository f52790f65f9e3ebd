"""Disqualification reasons (DIS-5 to DIS-9, PERM-1)."""

import uuid
from typing import Any

import pytest

DEFAULTS = [
    "No budget",
    "No authority",
    "No need",
    "Bad timing",
    "Chose a competitor",
    "Unresponsive",
    "Bad contact data",
]


async def listed(admin: Any) -> list[dict[str, Any]]:
    reasons: list[dict[str, Any]] = await admin.ok("get", "/disqualification-reasons")
    return reasons


def unique(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:6]}"


@pytest.fixture
async def own_reasons(admin: Any) -> Any:
    """Reasons a test adds are removed afterwards, so the shared list stays as seeded."""
    made: list[int] = []

    async def add(label: str, **fields: Any) -> dict[str, Any]:
        reason: dict[str, Any] = await admin.ok(
            "post", "/disqualification-reasons", {"label": label, **fields}, status=201
        )
        made.append(reason["id"])
        return reason

    yield add
    for reason_id in made:
        await admin.delete(f"/disqualification-reasons/{reason_id}")


class TestReasons:
    async def test_a_fresh_account_offers_the_default_reasons_in_order_dis_5(self, admin) -> None:
        """DIS-5: id, label, position, in the order offered."""
        reasons = await listed(admin)
        assert [r["label"] for r in reasons][: len(DEFAULTS)] == DEFAULTS
        assert [r["position"] for r in reasons] == list(range(len(reasons)))
        assert not any(r["removed"] for r in reasons)

    async def test_add_goes_last_or_at_the_position_given_dis_6(self, admin, own_reasons) -> None:
        """DIS-6."""
        last = await own_reasons(unique("Last"))
        first = await own_reasons(unique("First"), position=0)
        reasons = await listed(admin)
        assert reasons[0]["id"] == first["id"] and reasons[-1]["id"] == last["id"]
        assert [r["position"] for r in reasons] == list(range(len(reasons)))
        out_of_range = await admin.post(
            "/disqualification-reasons", {"label": unique("Far"), "position": len(reasons) + 1}
        )
        assert out_of_range.status_code == 422
        assert len(await listed(admin)) == len(reasons)

    async def test_rename_keeps_the_id_so_leads_show_the_new_label_dis_6(
        self, admin, own_reasons, make_lead, lead_stages
    ) -> None:
        """DIS-6."""
        reason = await own_reasons(unique("Old name"))
        lead = await make_lead()
        await admin.ok(
            "post",
            f"/leads/{lead['id']}/stage",
            {"stage_id": lead_stages["Disqualified"], "disqualification_reason_id": reason["id"]},
        )
        new_label = unique("New name")
        renamed = await admin.ok(
            "patch", f"/disqualification-reasons/{reason['id']}", {"label": new_label}
        )
        assert renamed["id"] == reason["id"] and renamed["label"] == new_label
        reason_id = (await admin.ok("get", f"/leads/{lead['id']}"))["disqualification_reason_id"]
        assert (await admin.ok("get", f"/disqualification-reasons/{reason_id}"))[
            "label"
        ] == new_label

    async def test_empty_and_duplicate_labels_are_refused_dis_6(self, admin, own_reasons) -> None:
        """DIS-6: empty is 422, duplicate (any case) is 409; nothing changes."""
        before = await listed(admin)
        assert (await admin.post("/disqualification-reasons", {"label": "  "})).status_code == 422
        duplicate = await admin.post("/disqualification-reasons", {"label": "no BUDGET"})
        assert duplicate.status_code == 409
        mine = await own_reasons(unique("Mine"))
        path = f"/disqualification-reasons/{mine['id']}"
        assert (await admin.patch(path, {"label": "No budget"})).status_code == 409
        assert (await admin.patch(path, {"label": ""})).status_code == 422
        assert (await admin.patch(path, {"label": mine["label"].upper()})).status_code == 200
        assert [r["id"] for r in await listed(admin)] == [r["id"] for r in before] + [mine["id"]]

    async def test_reorder_takes_a_full_new_order_dis_7(self, admin) -> None:
        """DIS-7."""
        ids = [r["id"] for r in await listed(admin)]
        try:
            reordered = await admin.ok(
                "put", "/disqualification-reasons/order", {"ids": list(reversed(ids))}
            )
            assert [r["id"] for r in reordered] == list(reversed(ids))
            assert [r["id"] for r in await listed(admin)] == list(reversed(ids))
        finally:
            await admin.ok("put", "/disqualification-reasons/order", {"ids": ids})

    @pytest.mark.parametrize(
        "order",
        [
            lambda ids: ids[:-1],
            lambda ids: [*ids, ids[0]],
            lambda ids: [*ids[:-1], 987654],
            lambda ids: [],
        ],
    )
    async def test_an_order_that_is_not_a_permutation_is_refused_dis_7(self, admin, order) -> None:
        """DIS-7, DIS-9: nothing is saved."""
        before = await listed(admin)
        response = await admin.put(
            "/disqualification-reasons/order", {"ids": order([r["id"] for r in before])}
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["rule"] == "permutation"
        assert await listed(admin) == before

    async def test_a_removed_reason_is_not_offered_but_stays_readable_dis_8(
        self, admin, own_reasons, make_lead, lead_stages
    ) -> None:
        """DIS-8: leads keep it; it can no longer be chosen or edited."""
        reason = await own_reasons(unique("Short-lived"))
        lead = await make_lead()
        await admin.ok(
            "post",
            f"/leads/{lead['id']}/stage",
            {"stage_id": lead_stages["Disqualified"], "disqualification_reason_id": reason["id"]},
        )
        assert (await admin.delete(f"/disqualification-reasons/{reason['id']}")).status_code == 204
        assert reason["id"] not in [r["id"] for r in await listed(admin)]
        kept = await admin.ok("get", f"/disqualification-reasons/{reason['id']}")
        assert kept["removed"] is True and kept["label"] == reason["label"]
        assert (await admin.ok("get", f"/leads/{lead['id']}"))["disqualification_reason_id"] == (
            reason["id"]
        )
        again = await admin.delete(f"/disqualification-reasons/{reason['id']}")
        assert again.status_code == 409
        rename = await admin.patch(f"/disqualification-reasons/{reason['id']}", {"label": "X"})
        assert rename.status_code == 409
        # Its label is free again.
        await own_reasons(reason["label"])

    async def test_unknown_reasons_are_404(self, admin) -> None:
        assert (await admin.get("/disqualification-reasons/987654")).status_code == 404
        assert (
            await admin.patch("/disqualification-reasons/987654", {"label": "x"})
        ).status_code == 404
        assert (await admin.delete("/disqualification-reasons/987654")).status_code == 404

    async def test_sales_users_and_services_read_reasons_but_get_403_on_changes_perm_1(
        self, admin, make_user
    ) -> None:
        """PERM-1."""
        before = await listed(admin)
        first = before[0]["id"]
        for role in ("sales_user", "service"):
            _, caller = await make_user(role=role)
            assert (await caller.get("/disqualification-reasons")).status_code == 200
            assert (await caller.get(f"/disqualification-reasons/{first}")).status_code == 200
            attempts = [
                await caller.post("/disqualification-reasons", {"label": unique("Mine")}),
                await caller.patch(f"/disqualification-reasons/{first}", {"label": "Mine"}),
                await caller.delete(f"/disqualification-reasons/{first}"),
                await caller.put(
                    "/disqualification-reasons/order", {"ids": [r["id"] for r in before]}
                ),
            ]
            assert [r.status_code for r in attempts] == [403] * 4
        assert await listed(admin) == before


def kept(reason: dict[str, Any], label: str | None = None) -> dict[str, Any]:
    return {"id": reason["id"], "label": label or reason["label"]}


@pytest.fixture
async def restore_reasons(admin: Any) -> Any:
    """The shared list is put back as it was: reasons a test added are removed again."""
    before = await listed(admin)
    yield
    await admin.ok("put", "/disqualification-reasons", {"reasons": [kept(r) for r in before]})


class TestOneSave:
    """PUT /disqualification-reasons: the whole ordered list, saved all or nothing."""

    async def test_renames_additions_removals_and_order_save_together_dis_9(
        self, admin, own_reasons, restore_reasons, make_pipeline, make_lead
    ) -> None:
        """DIS-9; a reason left out is removed as DIS-8 says: leads keep it, rules drop it."""
        first, second, third = [await own_reasons(unique(n)) for n in ("A", "B", "C")]
        pipeline = await make_pipeline()
        path = f"/pipelines/{pipeline['id']}/automation"
        rules = await admin.ok("get", path)
        lead_type = (await admin.ok("get", "/lead-types"))[0]["key"]
        rules["follow_up_on_disqualify"] = {
            "enabled": True,
            "lead_type": lead_type,
            "reason_ids": [second["id"]],
        }
        await admin.ok("put", path, rules)
        lead = await make_lead(pipeline_id=pipeline["id"])
        lost = pipeline["stages"][-1]["id"]
        await admin.ok(
            "post",
            f"/leads/{lead['id']}/stage",
            {"stage_id": lost, "disqualification_reason_id": second["id"]},
        )
        others = [r for r in await listed(admin) if r["id"] not in (first["id"], second["id"])]
        others = [r for r in others if r["id"] != third["id"]]
        fresh = unique("D")
        saved = await admin.ok(
            "put",
            "/disqualification-reasons",
            {
                "reasons": [
                    kept(third, "C renamed " + fresh),
                    {"label": fresh},
                    kept(first),
                    *map(kept, others),
                ]
            },
        )
        assert [r["label"] for r in saved[:3]] == ["C renamed " + fresh, fresh, first["label"]]
        assert [r["id"] for r in saved[:3:2]] == [third["id"], first["id"]]
        assert [r["position"] for r in saved] == list(range(len(saved)))
        assert await listed(admin) == saved
        removed = await admin.ok("get", f"/disqualification-reasons/{second['id']}")
        assert removed["removed"] is True
        lead_now = await admin.ok("get", f"/leads/{lead['id']}")
        assert lead_now["disqualification_reason_id"] == second["id"]
        follow_up = (await admin.ok("get", path))["follow_up_on_disqualify"]
        assert follow_up["reason_ids"] == [] and follow_up["enabled"] is False

    async def test_labels_can_be_swapped_in_one_save_dis_9(
        self, admin, own_reasons, restore_reasons
    ) -> None:
        first, second = await own_reasons(unique("A")), await own_reasons(unique("B"))
        reasons = await listed(admin)
        body = [
            kept(r, second["label"] if r["id"] == first["id"] else first["label"])
            if r["id"] in (first["id"], second["id"])
            else kept(r)
            for r in reasons
        ]
        saved = await admin.ok("put", "/disqualification-reasons", {"reasons": body})
        by_id = {r["id"]: r["label"] for r in saved}
        assert (by_id[first["id"]], by_id[second["id"]]) == (second["label"], first["label"])

    @pytest.mark.parametrize(
        ("change", "field", "rule"),
        [
            (
                lambda rs, gone: [*rs, {"label": rs[0]["label"].upper()}],
                "reasons.{n}.label",
                "unique",
            ),
            (lambda rs, gone: [*rs, {"label": "  "}], "reasons.{n}.label", "string_too_short"),
            (lambda rs, gone: [*rs, kept(rs[1], "Other")], "reasons.{n}.id", "unique"),
            (
                lambda rs, gone: [*rs, {"id": 987654, "label": "X"}],
                "reasons.{n}.id",
                "active_reason",
            ),
            (lambda rs, gone: [*rs, kept(gone)], "reasons.{n}.id", "active_reason"),
        ],
    )
    async def test_a_bad_list_is_422_naming_the_item_and_saves_nothing_dis_9(
        self, admin, own_reasons, change, field, rule
    ) -> None:
        """DIS-9: the rename that comes with the mistake is not saved either."""
        gone = await own_reasons(unique("Gone"))
        await admin.delete(f"/disqualification-reasons/{gone['id']}")
        before = await listed(admin)
        body = [kept(before[0], unique("Renamed")), *map(kept, before[1:])]
        response = await admin.put("/disqualification-reasons", {"reasons": change(body, gone)})
        assert response.status_code == 422, response.text
        errors = [(e["field"], e["rule"]) for e in response.json()["errors"]]
        assert errors == [(field.format(n=len(before)), rule)]
        assert await listed(admin) == before

    async def test_one_save_is_audited_as_the_single_edits_are_dis_9(
        self, admin, own_reasons, restore_reasons
    ) -> None:
        first, second = await own_reasons(unique("A")), await own_reasons(unique("B"))
        reasons = await listed(admin)
        rest = [kept(r) for r in reasons if r["id"] not in (first["id"], second["id"])]
        label = unique("A renamed")
        saved = await admin.ok(
            "put",
            "/disqualification-reasons",
            {"reasons": [kept(first, label), {"label": unique("New")}, *rest]},
        )
        added = saved[1]
        entries = (await admin.ok("get", "/audit-log?limit=4"))["items"]
        assert [(e["entity"], e["entity_id"], e["action"]) for e in reversed(entries)] == [
            ("disqualification_reason", second["id"], "delete"),
            ("disqualification_reason", added["id"], "create"),
            ("disqualification_reason", first["id"], "update"),
            ("disqualification_reason", None, "reorder"),
        ]
        assert entries[1]["after"]["label"] == label
        assert entries[0]["after"] == {"ids": [r["id"] for r in saved]}

    async def test_sales_users_may_not_save_the_list_perm_1_dis_9(self, admin, make_user) -> None:
        before = await listed(admin)
        _, rep = await make_user()
        response = await rep.put("/disqualification-reasons", {"reasons": [kept(before[0])]})
        assert response.status_code == 403
        assert await listed(admin) == before
