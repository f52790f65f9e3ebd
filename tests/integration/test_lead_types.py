"""Lead types (AUT-11) and lead labels; leads name a type by its key."""

import uuid


def unique(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:6]}"


class TestLeadTypes:
    async def test_a_fresh_account_has_the_default_types_aut_11(self, admin) -> None:
        """AUT-11."""
        types = await admin.ok("get", "/lead-types")
        assert [(t["key"], t["label"]) for t in types][:3] == [
            ("new_business", "New business"),
            ("upsell", "Upsell"),
            ("re_engagement", "Re-engagement"),
        ]

    async def test_types_are_added_renamed_and_removed_with_a_stable_key_aut_11(
        self, admin, make_lead
    ) -> None:
        """AUT-11: the key is a slug of the first label and survives a rename and removal."""
        label = unique("Partner Referral")
        created = await admin.ok("post", "/lead-types", {"label": label}, status=201)
        assert created["key"] == label.lower().replace(" ", "_") and created["removed"] is False
        lead = await make_lead(lead_type=created["key"])
        renamed = await admin.ok(
            "patch", f"/lead-types/{created['id']}", {"label": unique("Referral")}
        )
        assert renamed["key"] == created["key"]
        assert (await admin.delete(f"/lead-types/{created['id']}")).status_code == 204
        assert created["id"] not in [t["id"] for t in await admin.ok("get", "/lead-types")]
        assert (await admin.ok("get", f"/lead-types/{created['id']}"))["removed"] is True
        assert (await admin.ok("get", f"/leads/{lead['id']}"))["lead_type"] == created["key"]
        # The label is free again, but the key is never reused.
        again = await admin.ok("post", "/lead-types", {"label": label}, status=201)
        assert again["key"] == f"{created['key']}_2"
        await admin.delete(f"/lead-types/{again['id']}")

    async def test_empty_and_duplicate_labels_are_refused(self, admin) -> None:
        assert (await admin.post("/lead-types", {"label": ""})).status_code == 422
        assert (await admin.post("/lead-types", {"label": "UPSELL"})).status_code == 409
        created = await admin.ok("post", "/lead-types", {"label": unique("Dup")}, status=201)
        path = f"/lead-types/{created['id']}"
        assert (await admin.patch(path, {"label": "Upsell"})).status_code == 409
        assert (await admin.patch(path, {"label": " "})).status_code == 422
        assert (await admin.patch(path, {"label": "x", "key": "y"})).status_code == 422
        assert (await admin.ok("get", path))["label"] == created["label"]
        await admin.delete(path)

    async def test_removed_and_unknown_types_refuse_changes(self, admin) -> None:
        created = await admin.ok("post", "/lead-types", {"label": unique("Brief")}, status=201)
        path = f"/lead-types/{created['id']}"
        await admin.delete(path)
        assert (await admin.delete(path)).status_code == 409
        assert (await admin.patch(path, {"label": unique("Back")})).status_code == 409
        for response in (
            await admin.get("/lead-types/987654"),
            await admin.patch("/lead-types/987654", {"label": "x"}),
            await admin.delete("/lead-types/987654"),
        ):
            assert response.status_code == 404

    async def test_a_lead_must_name_a_known_type(self, admin) -> None:
        contact = await admin.ok("post", "/contacts", {"first_name": "Typed"}, status=201)
        response = await admin.post(
            "/leads", {"contact_id": contact["id"], "lead_type": "no_such_type"}
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "lead_type"
        assert response.json()["errors"][0]["rule"] == "exists"
        removed = await admin.ok("post", "/lead-types", {"label": unique("Old")}, status=201)
        await admin.delete(f"/lead-types/{removed['id']}")
        refused = await admin.post(
            "/leads", {"contact_id": contact["id"], "lead_type": removed["key"]}
        )
        assert refused.status_code == 422
        assert (await admin.ok("get", f"/leads?contact_id={contact['id']}"))["items"] == []
        lead = await admin.ok(
            "post", "/leads", {"contact_id": contact["id"], "lead_type": "upsell"}, status=201
        )
        assert lead["lead_type"] == "upsell"

    async def test_a_type_a_follow_up_rule_uses_cannot_be_removed(
        self, admin, make_pipeline
    ) -> None:
        created = await admin.ok("post", "/lead-types", {"label": unique("Follow")}, status=201)
        pipeline = await make_pipeline()
        path = f"/pipelines/{pipeline['id']}/automation"
        rules = await admin.ok("get", path)
        rules["follow_up_on_disqualify"] = {
            "enabled": False,
            "lead_type": created["key"],
            "reason_ids": [],
        }
        await admin.ok("put", path, rules)
        refused = await admin.delete(f"/lead-types/{created['id']}")
        assert refused.status_code == 409 and str(pipeline["id"]) in refused.json()["detail"]
        assert (await admin.ok("get", f"/lead-types/{created['id']}"))["removed"] is False

    async def test_lead_labels_are_listed(self, admin, make_user) -> None:
        _, rep = await make_user()
        labels = await rep.ok("get", "/lead-labels")
        assert [x["key"] for x in labels] == ["hot", "warm", "cold"]

    async def test_sales_users_and_services_read_types_but_get_403_on_changes_perm_1(
        self, admin, make_user
    ) -> None:
        """PERM-1."""
        before = await admin.ok("get", "/lead-types")
        first = before[0]["id"]
        for role in ("sales_user", "service"):
            _, caller = await make_user(role=role)
            assert (await caller.get("/lead-types")).status_code == 200
            attempts = [
                await caller.post("/lead-types", {"label": unique("Mine")}),
                await caller.patch(f"/lead-types/{first}", {"label": unique("Mine")}),
                await caller.delete(f"/lead-types/{first}"),
            ]
            assert [r.status_code for r in attempts] == [403] * 3
        assert await admin.ok("get", "/lead-types") == before
