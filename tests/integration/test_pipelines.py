"""Pipelines and stages (STG-1 to STG-8, QUA-5, DIS-9 for stages, PERM-1)."""

from typing import Any

import pytest


def labels(pipeline: dict[str, Any]) -> list[tuple[str, int, str]]:
    return [(s["label"], s["position"], s["kind"]) for s in pipeline["stages"]]


def stage_id(pipeline: dict[str, Any], label: str) -> int:
    found: int = next(s["id"] for s in pipeline["stages"] if s["label"] == label)
    return found


async def switch_off_progression(admin: Any, pipeline: dict[str, Any]) -> None:
    """Reorders that turn a rule backwards are refused (AUT-6); these tests reorder freely."""
    path = f"/pipelines/{pipeline['id']}/automation"
    rules = await admin.ok("get", path)
    for name in ("advance_on_outreach", "advance_on_connect"):
        rules[name]["enabled"] = False
    await admin.ok("put", path, rules)


async def default_lead_pipeline(admin: Any) -> dict[str, Any]:
    pipelines = await admin.ok("get", "/pipelines?object=lead")
    found: dict[str, Any] = next(p for p in pipelines if p["is_default"])
    return found


class TestPipelines:
    async def test_the_default_lead_pipeline_is_seeded_in_order_stg_3(self, admin) -> None:
        """STG-3, STG-2: ordered stages with id, label, position and kind."""
        pipeline = await default_lead_pipeline(admin)
        assert pipeline["object"] == "lead"
        assert labels(pipeline) == [
            ("New", 0, "open"),
            ("Attempting", 1, "open"),
            ("Connected", 2, "open"),
            ("Qualified", 3, "qualified"),
            ("Disqualified", 4, "disqualified"),
        ]
        assert all(isinstance(s["id"], int) for s in pipeline["stages"])

    async def test_a_created_pipeline_is_never_the_default_stg_1(
        self, admin, make_pipeline
    ) -> None:
        """STG-1: several lead pipelines, exactly one default."""
        created = await make_pipeline()
        assert created["is_default"] is False and created["object"] == "lead"
        assert labels(created)[0] == ("New", 0, "open")
        pipelines = await admin.ok("get", "/pipelines?object=lead")
        assert sum(p["is_default"] for p in pipelines) == 1
        assert created["id"] in [p["id"] for p in pipelines]
        assert all(p["object"] == "deal" for p in await admin.ok("get", "/pipelines?object=deal"))

    async def test_making_a_pipeline_the_default_unsets_the_old_one_stg_1(
        self, admin, make_pipeline
    ) -> None:
        """STG-1; the default pipeline cannot be deleted or unset."""
        old = await default_lead_pipeline(admin)
        new = await make_pipeline()
        try:
            switched = await admin.ok("patch", f"/pipelines/{new['id']}", {"is_default": True})
            assert switched["is_default"] is True
            assert (await admin.ok("get", f"/pipelines/{old['id']}"))["is_default"] is False
            refused = await admin.delete(f"/pipelines/{new['id']}")
            assert refused.status_code == 409 and "default" in refused.json()["detail"]
            unset = await admin.patch(f"/pipelines/{new['id']}", {"is_default": False})
            assert unset.status_code == 422
            assert unset.json()["errors"][0]["field"] == "is_default"
        finally:
            await admin.ok("patch", f"/pipelines/{old['id']}", {"is_default": True})
        pipelines = await admin.ok("get", "/pipelines?object=lead")
        assert [p["id"] for p in pipelines if p["is_default"]] == [old["id"]]

    async def test_stages_are_grouped_by_kind_in_the_order_given(self, make_pipeline) -> None:
        created = await make_pipeline(
            stages=[
                {"label": "Lost", "kind": "disqualified"},
                {"label": "A", "kind": "open"},
                {"label": "Won", "kind": "qualified"},
                {"label": "B", "kind": "open"},
            ]
        )
        assert labels(created) == [
            ("A", 0, "open"),
            ("B", 1, "open"),
            ("Won", 2, "qualified"),
            ("Lost", 3, "disqualified"),
        ]

    @pytest.mark.parametrize(
        ("stages", "field", "rule"),
        [
            ([{"label": "Open", "kind": "open"}], "stages", "every_kind"),
            (
                [
                    {"label": "Open", "kind": "open"},
                    {"label": "Won", "kind": "won"},
                    {"label": "Lost", "kind": "disqualified"},
                ],
                "stages.1.kind",
                "kind_for_object",
            ),
            (
                [
                    {"label": "Open", "kind": "open"},
                    {"label": "open", "kind": "open"},
                    {"label": "Q", "kind": "qualified"},
                    {"label": "D", "kind": "disqualified"},
                ],
                "stages.1.label",
                "unique",
            ),
            ([{"label": " ", "kind": "open"}], "stages.0.label", "string_too_short"),
            ([{"label": "X", "kind": "maybe"}], "stages.0.kind", "enum"),
            ([], "stages", "too_short"),
        ],
    )
    async def test_bad_stage_lists_are_422_and_create_nothing(
        self, admin, stages, field, rule
    ) -> None:
        before = len(await admin.ok("get", "/pipelines"))
        response = await admin.post(
            "/pipelines", {"object": "lead", "label": "Broken", "stages": stages}
        )
        assert response.status_code == 422, response.text
        assert (field, rule) in {(e["field"], e["rule"]) for e in response.json()["errors"]}
        assert len(await admin.ok("get", "/pipelines")) == before

    async def test_a_deal_pipeline_needs_open_won_and_lost(self, admin, make_pipeline) -> None:
        created = await make_pipeline("deal")
        assert [s["kind"] for s in created["stages"]] == ["open", "won", "lost"]
        response = await admin.post(
            "/pipelines",
            {"object": "deal", "label": "No lost", "stages": [{"label": "O", "kind": "open"}]},
        )
        assert response.status_code == 422

    async def test_pipeline_labels_are_unique_per_object(self, admin, make_pipeline) -> None:
        created = await make_pipeline()
        body = {"object": "lead", "label": created["label"].upper(), "stages": []}
        body["stages"] = [{"label": s["label"], "kind": s["kind"]} for s in created["stages"]]
        assert (await admin.post("/pipelines", body)).status_code == 409
        other = await make_pipeline()
        clash = await admin.patch(f"/pipelines/{other['id']}", {"label": created["label"]})
        assert clash.status_code == 409
        renamed = await admin.ok("patch", f"/pipelines/{other['id']}", {"label": "Renamed one"})
        assert renamed["label"] == "Renamed one" and renamed["stages"] == other["stages"]

    async def test_a_pipeline_with_leads_cannot_be_deleted(
        self, admin, make_pipeline, make_lead
    ) -> None:
        pipeline = await make_pipeline()
        await make_lead(pipeline_id=pipeline["id"])
        response = await admin.delete(f"/pipelines/{pipeline['id']}")
        assert response.status_code == 409 and "1 leads" in response.json()["detail"]
        assert (await admin.get(f"/pipelines/{pipeline['id']}")).status_code == 200

    async def test_an_empty_pipeline_can_be_deleted(self, admin, make_pipeline) -> None:
        pipeline = await make_pipeline()
        assert (await admin.delete(f"/pipelines/{pipeline['id']}")).status_code == 204
        assert (await admin.get(f"/pipelines/{pipeline['id']}")).status_code == 404
        assert (await admin.get(f"/pipelines/{pipeline['id']}/automation")).status_code == 404

    async def test_unknown_pipelines_are_404(self, admin) -> None:
        for response in (
            await admin.get("/pipelines/987654"),
            await admin.patch("/pipelines/987654", {"label": "x"}),
            await admin.delete("/pipelines/987654"),
            await admin.post("/pipelines/987654/stages", {"label": "x", "kind": "open"}),
            await admin.put("/pipelines/987654/stages/order", {"ids": []}),
        ):
            assert response.status_code == 404, response.text
        assert (await admin.get("/pipelines", object="account")).status_code == 422


class TestStages:
    async def test_rename_changes_only_the_label_stg_4(
        self, admin, make_pipeline, make_lead
    ) -> None:
        """STG-4: id, kind, position and leads in the stage stay."""
        pipeline = await make_pipeline()
        working = stage_id(pipeline, "Working")
        lead = await make_lead(pipeline_id=pipeline["id"], stage_id=working)
        renamed = await admin.ok(
            "patch", f"/pipelines/{pipeline['id']}/stages/{working}", {"label": "Calling"}
        )
        assert renamed == {"id": working, "label": "Calling", "position": 1, "kind": "open"}
        assert (await admin.ok("get", f"/leads/{lead['id']}"))["stage_id"] == working

    async def test_empty_and_duplicate_labels_are_refused_stg_4(self, admin, make_pipeline) -> None:
        """STG-4: empty is 422, a label the pipeline already has is 409; nothing changes."""
        pipeline = await make_pipeline()
        path = f"/pipelines/{pipeline['id']}/stages/{stage_id(pipeline, 'Working')}"
        empty = await admin.patch(path, {"label": "   "})
        assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "label"
        duplicate = await admin.patch(path, {"label": "talking"})
        assert duplicate.status_code == 409
        kind_change = await admin.patch(path, {"label": "X", "kind": "qualified"})
        assert kind_change.status_code == 422
        assert await admin.ok("get", f"/pipelines/{pipeline['id']}") == pipeline

    async def test_add_goes_to_the_end_of_its_kind_group_or_the_position_given_stg_5(
        self, admin, make_pipeline
    ) -> None:
        """STG-5."""
        pipeline = await make_pipeline()
        base = f"/pipelines/{pipeline['id']}/stages"
        added = await admin.ok("post", base, {"label": "Meeting", "kind": "open"}, status=201)
        assert added["position"] == 3 and added["kind"] == "open"
        await admin.ok("post", base, {"label": "Intro", "kind": "open", "position": 1}, status=201)
        await admin.ok("post", base, {"label": "Nurture", "kind": "disqualified"}, status=201)
        after = await admin.ok("get", f"/pipelines/{pipeline['id']}")
        assert labels(after) == [
            ("New", 0, "open"),
            ("Intro", 1, "open"),
            ("Working", 2, "open"),
            ("Talking", 3, "open"),
            ("Meeting", 4, "open"),
            ("Won", 5, "qualified"),
            ("Lost", 6, "disqualified"),
            ("Nurture", 7, "disqualified"),
        ]

    async def test_add_outside_the_kind_group_or_with_a_bad_label_is_refused_stg_5(
        self, admin, make_pipeline
    ) -> None:
        pipeline = await make_pipeline()
        base = f"/pipelines/{pipeline['id']}/stages"
        outside = await admin.post(base, {"label": "Late", "kind": "open", "position": 4})
        assert outside.status_code == 422
        assert outside.json()["errors"][0] == {
            "field": "position",
            "rule": "within_kind_group",
            "message": "new open stages go at a position from 0 to 3",
        }
        assert (await admin.post(base, {"label": "new", "kind": "open"})).status_code == 409
        assert (await admin.post(base, {"label": "", "kind": "open"})).status_code == 422
        wrong_kind = await admin.post(base, {"label": "Closed won", "kind": "won"})
        assert wrong_kind.status_code == 422
        assert wrong_kind.json()["errors"][0]["rule"] == "kind_for_object"
        assert await admin.ok("get", f"/pipelines/{pipeline['id']}") == pipeline

    async def test_a_stage_holding_leads_cannot_be_deleted_stg_6(
        self, admin, make_pipeline, make_lead
    ) -> None:
        """STG-6: the conflict says how many leads and where they could go."""
        pipeline = await make_pipeline()
        working = stage_id(pipeline, "Working")
        for _ in range(2):
            await make_lead(pipeline_id=pipeline["id"], stage_id=working)
        response = await admin.delete(f"/pipelines/{pipeline['id']}/stages/{working}")
        assert response.status_code == 409
        detail = response.json()["detail"]
        assert "2 leads" in detail and "New" in detail and "Talking" in detail
        assert await admin.ok("get", f"/pipelines/{pipeline['id']}") == pipeline

    async def test_the_last_stage_of_a_kind_cannot_be_deleted_stg_6(
        self, admin, make_pipeline
    ) -> None:
        pipeline = await make_pipeline()
        for label in ("Won", "Lost"):
            response = await admin.delete(
                f"/pipelines/{pipeline['id']}/stages/{stage_id(pipeline, label)}"
            )
            assert response.status_code == 409 and "last" in response.json()["detail"]
        assert await admin.ok("get", f"/pipelines/{pipeline['id']}") == pipeline

    async def test_a_stage_an_automation_rule_uses_cannot_be_deleted_stg_6(
        self, admin, make_pipeline
    ) -> None:
        """STG-6: the conflict names the rule."""
        pipeline = await make_pipeline()
        response = await admin.delete(
            f"/pipelines/{pipeline['id']}/stages/{stage_id(pipeline, 'Talking')}"
        )
        assert response.status_code == 409
        assert "advance_on_connect (to stage)" in response.json()["detail"]
        assert await admin.ok("get", f"/pipelines/{pipeline['id']}") == pipeline

    async def test_a_deleted_stage_leaves_the_pipeline_and_history_keeps_it_stg_6(
        self, admin, make_pipeline, make_lead
    ) -> None:
        pipeline = await make_pipeline(
            stages=[
                {"label": "New", "kind": "open"},
                {"label": "Working", "kind": "open"},
                {"label": "Talking", "kind": "open"},
                {"label": "Extra", "kind": "open"},
                {"label": "Won", "kind": "qualified"},
                {"label": "Lost", "kind": "disqualified"},
            ]
        )
        extra = stage_id(pipeline, "Extra")
        lead = await make_lead(pipeline_id=pipeline["id"], stage_id=extra)
        await admin.ok(
            "post", f"/leads/{lead['id']}/stage", {"stage_id": stage_id(pipeline, "New")}
        )
        assert (
            await admin.delete(f"/pipelines/{pipeline['id']}/stages/{extra}")
        ).status_code == 204
        after = await admin.ok("get", f"/pipelines/{pipeline['id']}")
        assert [s["label"] for s in after["stages"]] == ["New", "Working", "Talking", "Won", "Lost"]
        assert [s["position"] for s in after["stages"]] == [0, 1, 2, 3, 4]
        history = await admin.ok("get", f"/leads/{lead['id']}/history")
        assert history[0]["to_stage_id"] == extra
        # The label is free again, and the deleted stage takes no leads.
        await admin.ok(
            "post", f"/pipelines/{pipeline['id']}/stages", {"label": "Extra", "kind": "open"}
        )
        moved = await admin.post(f"/leads/{lead['id']}/stage", {"stage_id": extra})
        assert moved.status_code == 422
        gone = await admin.delete(f"/pipelines/{pipeline['id']}/stages/{extra}")
        assert gone.status_code == 404

    async def test_reorder_within_kind_groups_stg_7(self, admin, make_pipeline) -> None:
        """STG-7: the new order is returned and defines positions."""
        pipeline = await make_pipeline()
        await switch_off_progression(admin, pipeline)
        ids = [s["id"] for s in pipeline["stages"]]
        new_order = [ids[2], ids[0], ids[1], ids[3], ids[4]]
        reordered = await admin.ok(
            "put", f"/pipelines/{pipeline['id']}/stages/order", {"ids": new_order}
        )
        assert [s["id"] for s in reordered["stages"]] == new_order
        assert [s["position"] for s in reordered["stages"]] == [0, 1, 2, 3, 4]
        assert await admin.ok("get", f"/pipelines/{pipeline['id']}") == reordered

    async def test_order_defines_earlier_for_moves_stg_7(
        self, admin, make_pipeline, make_lead
    ) -> None:
        """STG-7: after a reorder, a move to a stage now earlier is a move back (AUT-8)."""
        pipeline = await make_pipeline()
        await switch_off_progression(admin, pipeline)
        new, working = stage_id(pipeline, "New"), stage_id(pipeline, "Working")
        ids = [s["id"] for s in pipeline["stages"]]
        await admin.ok(
            "put",
            f"/pipelines/{pipeline['id']}/stages/order",
            {"ids": [working, new, *ids[2:]]},
        )
        lead = await make_lead(pipeline_id=pipeline["id"], stage_id=new)
        back = await admin.ok("post", f"/leads/{lead['id']}/stage", {"stage_id": working})
        assert back["auto_progression"] is False

    @pytest.mark.parametrize(
        ("order", "rule"),
        [
            (lambda ids: ids[:-1], "permutation"),
            (lambda ids: [*ids, ids[0]], "permutation"),
            (lambda ids: [*ids[:-1], 987654], "permutation"),
            (lambda ids: [ids[3], ids[0], ids[1], ids[2], ids[4]], "kind_groups"),
            (lambda ids: [ids[0], ids[1], ids[2], ids[4], ids[3]], "kind_groups"),
        ],
    )
    async def test_a_bad_order_is_422_and_changes_nothing_stg_8(
        self, admin, make_pipeline, order, rule
    ) -> None:
        """STG-7, STG-8: not a permutation, or groups broken: nothing is saved."""
        pipeline = await make_pipeline()
        ids = [s["id"] for s in pipeline["stages"]]
        response = await admin.put(f"/pipelines/{pipeline['id']}/stages/order", {"ids": order(ids)})
        assert response.status_code == 422
        assert response.json()["errors"][0] == {
            "field": "ids",
            "rule": rule,
            "message": response.json()["errors"][0]["message"],
        }
        assert await admin.ok("get", f"/pipelines/{pipeline['id']}") == pipeline

    async def test_qualified_and_disqualified_groups_are_editable_qua_5_dis_9(
        self, admin, make_pipeline
    ) -> None:
        """QUA-5, DIS-9: add, rename, reorder and delete in the closing groups."""
        pipeline = await make_pipeline()
        base = f"/pipelines/{pipeline['id']}/stages"
        won_big = await admin.ok("post", base, {"label": "Won big", "kind": "qualified"})
        spam = await admin.ok(
            "post", base, {"label": "Spam", "kind": "disqualified", "position": 5}
        )
        await admin.ok("patch", f"{base}/{won_big['id']}", {"label": "Won large"})
        await admin.ok("patch", f"{base}/{spam['id']}", {"label": "Junk"})
        assert (await admin.delete(f"{base}/{stage_id(pipeline, 'Lost')}")).status_code == 204
        after = await admin.ok("get", f"/pipelines/{pipeline['id']}")
        assert labels(after)[3:] == [
            ("Won", 3, "qualified"),
            ("Won large", 4, "qualified"),
            ("Junk", 5, "disqualified"),
        ]

    async def test_unknown_stages_are_404(self, admin, make_pipeline) -> None:
        pipeline = await make_pipeline()
        other = await make_pipeline()
        foreign = other["stages"][0]["id"]
        for path in (f"/pipelines/{pipeline['id']}/stages/{foreign}", "/pipelines/1/stages/987654"):
            assert (await admin.patch(path, {"label": "x"})).status_code == 404
            assert (await admin.delete(path)).status_code == 404


class TestPermissions:
    async def test_sales_users_and_services_read_pipelines_but_get_403_on_changes_perm_1(
        self, admin, make_user, make_pipeline
    ) -> None:
        """PERM-1."""
        pipeline = await make_pipeline()
        base = f"/pipelines/{pipeline['id']}"
        first = pipeline["stages"][0]["id"]
        for role in ("sales_user", "service"):
            _, caller = await make_user(role=role)
            assert (await caller.get(base)).status_code == 200
            assert (await caller.get("/pipelines")).status_code == 200
            attempts = [
                await caller.post(
                    "/pipelines",
                    {"object": "lead", "label": "Mine", "stages": [{"label": "A", "kind": "open"}]},
                ),
                await caller.patch(base, {"label": "Mine"}),
                await caller.delete(base),
                await caller.post(f"{base}/stages", {"label": "Mine", "kind": "open"}),
                await caller.patch(f"{base}/stages/{first}", {"label": "Mine"}),
                await caller.delete(f"{base}/stages/{first}"),
                await caller.put(
                    f"{base}/stages/order", {"ids": [s["id"] for s in pipeline["stages"]]}
                ),
            ]
            assert [r.status_code for r in attempts] == [403] * len(attempts), [
                r.text for r in attempts
            ]
        assert await admin.ok("get", base) == pipeline


def edit(stage: dict[str, Any], label: str | None = None) -> dict[str, Any]:
    """A stage as a whole-list save keeps it (renamed to `label` if given)."""
    return {"id": stage["id"], "label": label or stage["label"]}


WITH_EXTRA = [
    {"label": "New", "kind": "open"},
    {"label": "Working", "kind": "open"},
    {"label": "Talking", "kind": "open"},
    {"label": "Extra", "kind": "open"},
    {"label": "Won", "kind": "qualified"},
    {"label": "Lost", "kind": "disqualified"},
]


class TestOneSave:
    """PUT /pipelines/{id}/stages: the whole ordered list, saved all or nothing."""

    async def test_renames_additions_deletions_and_order_save_together_stg_8_dis_9(
        self, admin, make_pipeline
    ) -> None:
        """STG-8; DIS-9: the disqualified group is edited in the same save."""
        pipeline = await make_pipeline(stages=WITH_EXTRA)
        new, working, talking, extra, won, lost = pipeline["stages"]
        saved = await admin.ok(
            "put",
            f"/pipelines/{pipeline['id']}/stages",
            {
                "stages": [
                    edit(new, "Fresh"),
                    {"label": "Researching", "kind": "open"},
                    edit(working),
                    {"id": talking["id"], "label": "Talking", "kind": "open"},
                    edit(won),
                    {"label": "Spam", "kind": "disqualified"},
                    edit(lost, "Junk"),
                ]
            },
        )
        assert labels(saved) == [
            ("Fresh", 0, "open"),
            ("Researching", 1, "open"),
            ("Working", 2, "open"),
            ("Talking", 3, "open"),
            ("Won", 4, "qualified"),
            ("Spam", 5, "disqualified"),
            ("Junk", 6, "disqualified"),
        ]
        ids = [s["id"] for s in saved["stages"]]
        assert [ids[0], ids[2], ids[3], ids[4], ids[6]] == [
            s["id"] for s in (new, working, talking, won, lost)
        ]
        assert extra["id"] not in ids
        assert await admin.ok("get", f"/pipelines/{pipeline['id']}") == saved

    async def test_labels_can_be_swapped_in_one_save_stg_8(self, admin, make_pipeline) -> None:
        """One by one, a swap needs a third name; saved together it does not."""
        pipeline = await make_pipeline()
        new, working, talking, won, lost = pipeline["stages"]
        saved = await admin.ok(
            "put",
            f"/pipelines/{pipeline['id']}/stages",
            {
                "stages": [
                    edit(new),
                    edit(working, "Talking"),
                    edit(talking, "Working"),
                    edit(won),
                    edit(lost),
                ]
            },
        )
        assert [(s["id"], s["label"]) for s in saved["stages"][1:3]] == [
            (working["id"], "Talking"),
            (talking["id"], "Working"),
        ]

    @pytest.mark.parametrize(
        ("change", "field", "rule"),
        [
            (lambda s: [*s[:4], {"id": s[4]["id"], "label": "won"}], "stages.4.label", "unique"),
            (lambda s: [s[0], {"label": "Later"}, *s[1:]], "stages.1.kind", "required"),
            (lambda s: [*s[:3], s[4]], "stages", "every_kind"),
            (lambda s: [s[0], s[1], s[3], s[2], s[4]], "stages", "kind_groups"),
            (
                lambda s: [*s[:3], {"id": s[3]["id"], "label": "Won", "kind": "open"}, s[4]],
                "stages.3.kind",
                "kind_unchanged",
            ),
            (lambda s: [*s, s[0]], "stages.5.id", "unique"),
            (lambda s: [{"id": 987654, "label": "X"}, *s[1:]], "stages.0.id", "stage_in_pipeline"),
            (
                lambda s: [*s[:4], {"label": "Won", "kind": "won"}],
                "stages.4.kind",
                "kind_for_object",
            ),
        ],
    )
    async def test_a_bad_list_is_422_naming_the_item_and_saves_nothing_stg_8(
        self, admin, make_pipeline, change, field, rule
    ) -> None:
        """STG-8: the rename of New that comes with the mistake is not saved either."""
        pipeline = await make_pipeline()
        stages = [edit(pipeline["stages"][0], "Fresh"), *map(edit, pipeline["stages"][1:])]
        response = await admin.put(
            f"/pipelines/{pipeline['id']}/stages", {"stages": change(stages)}
        )
        assert response.status_code == 422, response.text
        assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [(field, rule)]
        assert await admin.ok("get", f"/pipelines/{pipeline['id']}") == pipeline

    async def test_an_empty_label_is_422_stg_8(self, admin, make_pipeline) -> None:
        pipeline = await make_pipeline()
        stages = [edit(pipeline["stages"][0], "  "), *map(edit, pipeline["stages"][1:])]
        response = await admin.put(f"/pipelines/{pipeline['id']}/stages", {"stages": stages})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "stages.0.label"
        assert await admin.ok("get", f"/pipelines/{pipeline['id']}") == pipeline

    async def test_a_stage_with_leads_or_named_by_a_rule_is_not_deleted_stg_8(
        self, admin, make_pipeline, make_lead
    ) -> None:
        """STG-6's refusals hold in one save: 409 naming the leads or the rule."""
        pipeline = await make_pipeline(stages=WITH_EXTRA)
        new, working, talking, extra, won, lost = pipeline["stages"]
        await make_lead(pipeline_id=pipeline["id"], stage_id=extra["id"])
        path = f"/pipelines/{pipeline['id']}/stages"
        holding = await admin.put(
            path,
            {"stages": [edit(new, "Fresh"), edit(working), edit(talking), edit(won), edit(lost)]},
        )
        assert holding.status_code == 409
        assert "Extra holds 1 leads" in holding.json()["detail"]
        named = await admin.put(
            path,
            {"stages": [edit(new, "Fresh"), edit(talking), edit(extra), edit(won), edit(lost)]},
        )
        assert named.status_code == 409
        assert "advance_on_outreach (to stage)" in named.json()["detail"]
        assert await admin.ok("get", f"/pipelines/{pipeline['id']}") == pipeline

    async def test_an_order_that_turns_an_enabled_rule_backwards_is_409_naming_it_aut_6(
        self, admin, make_pipeline
    ) -> None:
        """AUT-6: outreach moves New to Working; Working before New would make it backward."""
        pipeline = await make_pipeline()
        new, working, talking, won, lost = pipeline["stages"]
        response = await admin.put(
            f"/pipelines/{pipeline['id']}/stages",
            {"stages": [edit(working), edit(new), edit(talking), edit(won), edit(lost)]},
        )
        assert response.status_code == 409
        assert "advance_on_outreach" in response.json()["detail"]
        assert {(e["field"], e["rule"]) for e in response.json()["errors"]} == {
            ("stages", "rule_stays_forward")
        }
        assert await admin.ok("get", f"/pipelines/{pipeline['id']}") == pipeline

    async def test_one_save_is_audited_as_the_single_edits_are_stg_8(
        self, admin, make_pipeline
    ) -> None:
        pipeline = await make_pipeline(stages=WITH_EXTRA)
        new, working, talking, extra, won, lost = pipeline["stages"]
        await switch_off_progression(admin, pipeline)
        saved = await admin.ok(
            "put",
            f"/pipelines/{pipeline['id']}/stages",
            {
                "stages": [
                    edit(new),
                    edit(talking),
                    edit(working, "Calling"),
                    {"label": "Meeting", "kind": "open"},
                    edit(won),
                    edit(lost),
                ]
            },
        )
        meeting = saved["stages"][3]
        entries = (await admin.ok("get", "/audit-log?limit=4"))["items"]
        assert [(e["entity"], e["entity_id"], e["action"]) for e in reversed(entries)] == [
            ("stage", extra["id"], "delete"),
            ("stage", meeting["id"], "create"),
            ("stage", working["id"], "update"),
            ("pipeline", pipeline["id"], "reorder"),
        ]
        rename, reorder = entries[1], entries[0]
        assert (rename["before"]["label"], rename["after"]["label"]) == ("Working", "Calling")
        assert [s["id"] for s in reorder["after"]["stages"]] == [s["id"] for s in saved["stages"]]

    async def test_an_unknown_pipeline_is_404_and_sales_users_get_403_stg_8(
        self, admin, make_pipeline, make_user
    ) -> None:
        pipeline = await make_pipeline()
        body = {"stages": [edit(s) for s in pipeline["stages"]]}
        assert (await admin.put("/pipelines/987654/stages", body)).status_code == 404
        _, rep = await make_user()
        assert (await rep.put(f"/pipelines/{pipeline['id']}/stages", body)).status_code == 403
