"""Lead settings (SET-1 to SET-7) and who may change them (PERM-1)."""

from typing import Any

from temporalio.client import WorkflowExecutionStatus

from tests.integration.eventually import eventually
from tests.stack import DEFAULT_LEAD_SETTINGS


async def contact_leads(admin: Any, contact_id: int) -> list[dict[str, Any]]:
    listed = await admin.ok("get", f"/leads?contact_id={contact_id}")
    items: list[dict[str, Any]] = listed["items"]
    return items


TRIGGER = {"enabled": True, "stages": ["marketingqualifiedlead", "salesqualifiedlead"]}


class TestSaving:
    async def test_settings_read_as_the_defaults_and_save_whole_set_1(
        self, admin, lead_settings
    ) -> None:
        """SET-1, QUA-1, DIS-1: readable, savable, both requirements off by default."""
        assert await admin.ok("get", "/settings/leads") == DEFAULT_LEAD_SETTINGS
        saved = await lead_settings(
            create_lead_on_lifecycle=TRIGGER,
            set_lifecycle_on_associate={"enabled": True, "stage": "opportunity"},
            require_deal_on_qualify=True,
            require_disqualification_reason=True,
        )
        assert await admin.ok("get", "/settings/leads") == saved
        assert saved["create_lead_on_lifecycle"] == TRIGGER
        assert saved["require_deal_on_qualify"] is True

    async def test_a_save_with_one_bad_part_changes_nothing_set_1(
        self, admin, lead_settings
    ) -> None:
        """SET-1: all or nothing; every broken rule is listed."""
        await lead_settings(require_deal_on_qualify=True)
        response = await admin.put(
            "/settings/leads",
            {
                **DEFAULT_LEAD_SETTINGS,
                "require_deal_on_qualify": False,
                "create_lead_on_lifecycle": {"enabled": True, "stages": []},
                "set_lifecycle_on_associate": {"enabled": True, "stage": None},
            },
        )
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        assert {(e["field"], e["rule"]) for e in response.json()["errors"]} == {
            ("create_lead_on_lifecycle.stages", "required"),
            ("set_lifecycle_on_associate.stage", "required"),
        }
        assert (await admin.ok("get", "/settings/leads"))["require_deal_on_qualify"] is True

    async def test_enabling_lifecycle_creation_without_stages_is_rejected_set_2(
        self, admin
    ) -> None:
        """SET-2."""
        response = await admin.put(
            "/settings/leads",
            {**DEFAULT_LEAD_SETTINGS, "create_lead_on_lifecycle": {"enabled": True}},
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "create_lead_on_lifecycle.stages"
        assert await admin.ok("get", "/settings/leads") == DEFAULT_LEAD_SETTINGS

    async def test_bad_types_unknown_stages_and_missing_fields_are_422(self, admin) -> None:
        bad = await admin.put(
            "/settings/leads",
            {
                **DEFAULT_LEAD_SETTINGS,
                "create_lead_on_lifecycle": {"enabled": "yes please", "stages": ["vip"]},
                "colour": "red",
            },
        )
        assert bad.status_code == 422
        fields = {e["field"] for e in bad.json()["errors"]}
        assert {"create_lead_on_lifecycle.enabled", "create_lead_on_lifecycle.stages.0"} <= fields
        assert "colour" in fields
        partial = await admin.put("/settings/leads", {"require_deal_on_qualify": True})
        assert partial.status_code == 422
        assert await admin.ok("get", "/settings/leads") == DEFAULT_LEAD_SETTINGS

    async def test_sales_users_and_services_read_but_may_not_change_perm_1(
        self, admin, make_user
    ) -> None:
        """PERM-1."""
        for role in ("sales_user", "service"):
            _, caller = await make_user(role=role)
            assert (await caller.get("/settings/leads")).status_code == 200
            refused = await caller.put(
                "/settings/leads", {**DEFAULT_LEAD_SETTINGS, "require_deal_on_qualify": True}
            )
            assert refused.status_code == 403
            assert refused.json()["type"] == "/problems/forbidden"
        assert await admin.ok("get", "/settings/leads") == DEFAULT_LEAD_SETTINGS
        _, other_admin = await make_user(role="admin")
        assert (await other_admin.put("/settings/leads", DEFAULT_LEAD_SETTINGS)).status_code == 200

    async def test_settings_need_a_token(self, admin) -> None:
        assert (await admin.as_(None).get("/settings/leads")).status_code == 401


class TestCreateLeadOnLifecycle:
    async def test_a_contact_entering_a_trigger_stage_gets_one_lead_set_3(
        self, admin, make_user, lead_settings, lead_stages, dev_server_env
    ) -> None:
        """SET-3: exactly one lead, source lifecycle_stage, contact's owner, default pipeline's
        first stage, and its workflow runs."""
        await lead_settings(create_lead_on_lifecycle=TRIGGER)
        rep, _ = await make_user()
        contact = await admin.ok(
            "post",
            "/contacts",
            {"first_name": "Lia", "last_name": "Virta", "owner_id": rep["id"]},
            status=201,
        )
        await admin.ok(
            "patch", f"/contacts/{contact['id']}", {"lifecycle_stage": "marketingqualifiedlead"}
        )
        [lead] = await contact_leads(admin, contact["id"])
        assert lead["source"] == "lifecycle_stage"
        assert lead["owner_id"] == rep["id"]
        assert lead["stage_id"] == lead_stages["New"]
        assert lead["name"] == "Lia Virta"
        history = await admin.ok("get", f"/leads/{lead['id']}/history")
        assert history[0]["cause"] == "automation:create_lead_on_lifecycle"  # AUT-13
        info = await eventually(
            lambda: dev_server_env.client.get_workflow_handle(f"lead-{lead['id']}").describe(),
            lambda d: d.status == WorkflowExecutionStatus.RUNNING,
        )
        assert info.status == WorkflowExecutionStatus.RUNNING

    async def test_a_lifecycle_lead_names_the_change_that_caused_it_aut_13(
        self, admin, lead_settings
    ) -> None:
        """AUT-13: the rule in `cause`, the contact's lifecycle change in `caused_by`."""
        await lead_settings(create_lead_on_lifecycle=TRIGGER)
        contact = await admin.ok(
            "post", "/contacts", {"first_name": "Kai", "lifecycle_stage": "lead"}, status=201
        )
        await admin.ok(
            "patch",
            f"/contacts/{contact['id']}",
            {"lifecycle_stage": "salesqualifiedlead", "change_source": "integration"},
        )
        [lead] = await contact_leads(admin, contact["id"])
        change = (await admin.ok("get", f"/contacts/{contact['id']}/lifecycle-changes"))[-1]
        [created] = await admin.ok("get", f"/leads/{lead['id']}/history")
        assert created["cause"] == "automation:create_lead_on_lifecycle"
        assert created["caused_by"] == {
            "kind": "lifecycle_change",
            "contact_id": contact["id"],
            "lifecycle_change_id": created["caused_by"]["lifecycle_change_id"],
            "from_lifecycle_stage": "lead",
            "to_lifecycle_stage": "salesqualifiedlead",
            "change_source": "integration",
            "at": change["at"],
        }

    async def test_no_second_lead_while_the_contact_has_an_open_one_set_3(
        self, admin, lead_settings
    ) -> None:
        """SET-3: a further trigger change while a lead is open creates nothing."""
        await lead_settings(create_lead_on_lifecycle=TRIGGER)
        contact = await admin.ok(
            "post", "/contacts", {"first_name": "Oona", "lifecycle_stage": "lead"}, status=201
        )
        path = f"/contacts/{contact['id']}"
        await admin.ok("patch", path, {"lifecycle_stage": "marketingqualifiedlead"})
        await admin.ok("patch", path, {"lifecycle_stage": "salesqualifiedlead"})
        await admin.ok("patch", path, {"lifecycle_stage": "lead"})
        await admin.ok("patch", path, {"lifecycle_stage": "marketingqualifiedlead"})
        assert len(await contact_leads(admin, contact["id"])) == 1

    async def test_a_contact_created_in_a_trigger_stage_gets_a_lead_set_3(
        self, admin, lead_settings
    ) -> None:
        await lead_settings(create_lead_on_lifecycle=TRIGGER)
        contact = await admin.ok(
            "post",
            "/contacts",
            {"first_name": "Eino", "lifecycle_stage": "salesqualifiedlead"},
            status=201,
        )
        [lead] = await contact_leads(admin, contact["id"])
        assert lead["source"] == "lifecycle_stage"

    async def test_a_closed_lead_does_not_stop_a_new_one_set_3(
        self, admin, make_lead, lead_settings, lead_stages
    ) -> None:
        contact = await admin.ok("post", "/contacts", {"first_name": "Pia"}, status=201)
        old = await make_lead(contact_id=contact["id"])
        await admin.ok(
            "post", f"/leads/{old['id']}/stage", {"stage_id": lead_stages["Disqualified"]}
        )
        await lead_settings(create_lead_on_lifecycle=TRIGGER)
        await admin.ok(
            "patch", f"/contacts/{contact['id']}", {"lifecycle_stage": "marketingqualifiedlead"}
        )
        leads = await contact_leads(admin, contact["id"])
        assert [x["source"] for x in leads] == ["manual", "lifecycle_stage"]

    async def test_company_sync_creates_no_lead_and_every_change_records_its_source_set_4(
        self, admin, lead_settings
    ) -> None:
        """SET-4, AUT-9."""
        await lead_settings(create_lead_on_lifecycle=TRIGGER)
        contact = await admin.ok("post", "/contacts", {"first_name": "Aku"}, status=201)
        path = f"/contacts/{contact['id']}"
        synced = await admin.ok(
            "patch",
            path,
            {"lifecycle_stage": "marketingqualifiedlead", "change_source": "company_sync"},
        )
        assert synced["lifecycle_stage"] == "marketingqualifiedlead"
        assert await contact_leads(admin, contact["id"]) == []
        await admin.ok(
            "patch", path, {"lifecycle_stage": "opportunity", "change_source": "integration"}
        )
        await admin.ok("patch", path, {"lifecycle_stage": "opportunity"})  # no change
        changes = await admin.ok("get", f"{path}/lifecycle-changes")
        assert [(c["from_stage"], c["to_stage"], c["source"]) for c in changes] == [
            (None, "marketingqualifiedlead", "company_sync"),
            ("marketingqualifiedlead", "opportunity", "integration"),
        ]

    async def test_nothing_is_created_while_disabled_or_for_other_stages_set_5(
        self, admin, lead_settings
    ) -> None:
        """SET-5."""
        contact = await admin.ok("post", "/contacts", {"first_name": "Ilmari"}, status=201)
        path = f"/contacts/{contact['id']}"
        await admin.ok("patch", path, {"lifecycle_stage": "marketingqualifiedlead"})
        assert await contact_leads(admin, contact["id"]) == []
        await lead_settings(create_lead_on_lifecycle=TRIGGER)
        await admin.ok("patch", path, {"lifecycle_stage": "customer"})
        assert await contact_leads(admin, contact["id"]) == []
        await lead_settings(
            create_lead_on_lifecycle={"enabled": False, "stages": ["marketingqualifiedlead"]}
        )
        await admin.ok("patch", path, {"lifecycle_stage": "marketingqualifiedlead"})
        assert await contact_leads(admin, contact["id"]) == []

    async def test_lifecycle_changes_of_an_unknown_contact_are_404(self, admin) -> None:
        assert (await admin.get("/contacts/987654/lifecycle-changes")).status_code == 404
        missing = await admin.patch("/contacts/987654", {"lifecycle_stage": "lead"})
        assert missing.status_code == 404


class TestSetLifecycleOnAssociate:
    async def test_a_new_lead_sets_its_contact_and_company_stage_even_backwards_set_6(
        self, admin, lead_settings
    ) -> None:
        """SET-6: an unconditional set, recorded with its source."""
        await lead_settings(set_lifecycle_on_associate={"enabled": True, "stage": "opportunity"})
        company = await admin.ok(
            "post", "/companies", {"name": "Oy Ab", "lifecycle_stage": "customer"}, status=201
        )
        contact = await admin.ok(
            "post",
            "/contacts",
            {"first_name": "Ville", "company_id": company["id"], "lifecycle_stage": "evangelist"},
            status=201,
        )
        await admin.ok(
            "post", "/leads", {"contact_id": contact["id"], "company_id": company["id"]}, status=201
        )
        assert (await admin.ok("get", f"/contacts/{contact['id']}"))["lifecycle_stage"] == (
            "opportunity"
        )
        assert (await admin.ok("get", f"/companies/{company['id']}"))["lifecycle_stage"] == (
            "opportunity"
        )
        changes = await admin.ok("get", f"/contacts/{contact['id']}/lifecycle-changes")
        assert changes[-1]["source"] == "lead_association"
        assert changes[-1]["from_stage"] == "evangelist"

    async def test_nothing_is_set_while_disabled_set_6(self, admin, make_lead) -> None:
        contact = await admin.ok(
            "post", "/contacts", {"first_name": "Sara", "lifecycle_stage": "customer"}, status=201
        )
        await make_lead(contact_id=contact["id"])
        assert (await admin.ok("get", f"/contacts/{contact['id']}"))["lifecycle_stage"] == (
            "customer"
        )


class TestLifecycleRuleInAutomation:
    async def test_the_rule_is_stored_once_and_shown_in_the_default_pipeline_set_7(
        self, admin, lead_settings, make_pipeline, session_factory
    ) -> None:
        """SET-7: one account-wide rule, shown read-only in the default pipeline's automation."""
        await lead_settings(create_lead_on_lifecycle=TRIGGER)
        default_id = await _default_lead_pipeline_id(admin)
        shown = await admin.ok("get", f"/pipelines/{default_id}/automation")
        assert shown["create_lead_on_lifecycle"] == TRIGGER
        other = await make_pipeline()
        assert (await admin.ok("get", f"/pipelines/{other['id']}/automation"))[
            "create_lead_on_lifecycle"
        ] is None
        # Sending it back unchanged is fine; changing it here is not.
        assert (await admin.put(f"/pipelines/{default_id}/automation", shown)).status_code == 200
        changed = {**shown, "create_lead_on_lifecycle": {"enabled": False, "stages": []}}
        refused = await admin.put(f"/pipelines/{default_id}/automation", changed)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["rule"] == "read_only"
        assert (await admin.ok("get", "/settings/leads"))["create_lead_on_lifecycle"] == TRIGGER


async def _default_lead_pipeline_id(admin: Any) -> int:
    pipelines = await admin.ok("get", "/pipelines?object=lead")
    pipeline_id: int = next(p["id"] for p in pipelines if p["is_default"])
    return pipeline_id
