"""Stage moves under the lead settings: qualification (QUA-1 to QUA-4) and disqualification
(DIS-1 to DIS-4). A refused move leaves the lead and its history as they were."""

from typing import Any


async def assert_unmoved(admin: Any, lead: dict[str, Any]) -> None:
    now = await admin.ok("get", f"/leads/{lead['id']}")
    assert now["stage_id"] == lead["stage_id"]
    assert now["deal_id"] is None and now["disqualification_reason_id"] is None
    assert len(await admin.ok("get", f"/leads/{lead['id']}/history")) == 1


async def a_reason(admin: Any) -> dict[str, Any]:
    reasons: list[dict[str, Any]] = await admin.ok("get", "/disqualification-reasons")
    return reasons[0]


class TestQualify:
    async def test_qualifying_needs_no_deal_by_default_qua_1_qua_4(
        self, admin, make_lead, lead_stages
    ) -> None:
        """QUA-1 (off by default), QUA-4."""
        assert (await admin.ok("get", "/settings/leads"))["require_deal_on_qualify"] is False
        lead = await make_lead()
        moved = await admin.ok(
            "post", f"/leads/{lead['id']}/stage", {"stage_id": lead_stages["Qualified"]}
        )
        assert moved["stage_id"] == lead_stages["Qualified"] and moved["deal_id"] is None

    async def test_a_deal_may_still_be_given_when_not_required_qua_4(
        self, admin, make_lead, lead_stages
    ) -> None:
        lead = await make_lead()
        moved = await admin.ok(
            "post",
            f"/leads/{lead['id']}/stage",
            {"stage_id": lead_stages["Qualified"], "deal": {"name": "Optional deal"}},
        )
        assert moved["deal_id"] is not None

    async def test_qualifying_without_a_deal_is_refused_when_required_qua_2(
        self, admin, make_lead, lead_stages, lead_settings
    ) -> None:
        """QUA-2: a 422 naming the missing deal; the lead does not move."""
        await lead_settings(require_deal_on_qualify=True)
        lead = await make_lead()
        response = await admin.post(
            f"/leads/{lead['id']}/stage", {"stage_id": lead_stages["Qualified"]}
        )
        assert response.status_code == 422
        body = response.json()
        assert body["type"] == "/problems/invalid-transition"
        assert [(e["field"], e["rule"]) for e in body["errors"]] == [("deal", "required")]
        await assert_unmoved(admin, lead)

    async def test_qualifying_with_a_deal_creates_and_links_it_qua_3(
        self, admin, make_lead, lead_stages, lead_settings
    ) -> None:
        """QUA-3: the deal belongs to the lead, its contact and company; the lead records it."""
        await lead_settings(require_deal_on_qualify=True)
        company = await admin.ok("post", "/companies", {"name": "Deal Co"}, status=201)
        contact = await admin.ok(
            "post", "/contacts", {"first_name": "Dee", "company_id": company["id"]}, status=201
        )
        lead = await admin.ok(
            "post", "/leads", {"contact_id": contact["id"], "company_id": company["id"]}
        )
        moved = await admin.ok(
            "post",
            f"/leads/{lead['id']}/stage",
            {"stage_id": lead_stages["Qualified"], "deal": {"name": "Plan", "amount": "10.00"}},
        )
        deal = await admin.ok("get", f"/deals/{moved['deal_id']}")
        assert (deal["lead_id"], deal["contact_id"], deal["company_id"]) == (
            lead["id"],
            contact["id"],
            company["id"],
        )

    async def test_a_bad_deal_refuses_the_whole_move_qua_3(
        self, admin, make_lead, lead_stages, lead_settings
    ) -> None:
        """QUA-3: move and deal are atomic."""
        await lead_settings(require_deal_on_qualify=True)
        lead = await make_lead()
        response = await admin.post(
            f"/leads/{lead['id']}/stage",
            {"stage_id": lead_stages["Qualified"], "deal": {"name": "X", "pipeline_id": 987654}},
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "deal.pipeline_id"
        await assert_unmoved(admin, lead)

    async def test_other_moves_need_no_deal_when_required(
        self, admin, make_lead, lead_stages, lead_settings
    ) -> None:
        await lead_settings(require_deal_on_qualify=True)
        lead = await make_lead()
        for stage in ("Attempting", "Disqualified"):
            await admin.ok("post", f"/leads/{lead['id']}/stage", {"stage_id": lead_stages[stage]})


class TestDisqualify:
    async def test_disqualifying_without_a_reason_is_refused_when_required_dis_1_dis_2(
        self, admin, make_lead, lead_stages, lead_settings
    ) -> None:
        """DIS-1, DIS-2."""
        await lead_settings(require_disqualification_reason=True)
        lead = await make_lead()
        response = await admin.post(
            f"/leads/{lead['id']}/stage", {"stage_id": lead_stages["Disqualified"]}
        )
        assert response.status_code == 422
        assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [
            ("disqualification_reason_id", "required")
        ]
        await assert_unmoved(admin, lead)

    async def test_the_reason_is_stored_on_the_lead_and_its_history_dis_4(
        self, admin, make_lead, lead_stages, lead_settings
    ) -> None:
        """DIS-4."""
        await lead_settings(require_disqualification_reason=True)
        reason = await a_reason(admin)
        lead = await make_lead()
        moved = await admin.ok(
            "post",
            f"/leads/{lead['id']}/stage",
            {"stage_id": lead_stages["Disqualified"], "disqualification_reason_id": reason["id"]},
        )
        assert moved["disqualification_reason_id"] == reason["id"]
        history = await admin.ok("get", f"/leads/{lead['id']}/history")
        assert history[-1]["disqualification_reason_id"] == reason["id"]

    async def test_the_reason_is_optional_when_not_required_dis_3(
        self, admin, make_lead, lead_stages
    ) -> None:
        """DIS-3: off by default, and no reason is fine."""
        assert (await admin.ok("get", "/settings/leads"))["require_disqualification_reason"] is (
            False
        )
        lead = await make_lead()
        moved = await admin.ok(
            "post", f"/leads/{lead['id']}/stage", {"stage_id": lead_stages["Disqualified"]}
        )
        assert moved["disqualification_reason_id"] is None

    async def test_an_unknown_or_removed_reason_is_refused_even_when_optional_dis_3_dis_4(
        self, admin, make_lead, lead_stages
    ) -> None:
        """DIS-3, DIS-4, DIS-8: a given reason must exist and not be removed."""
        removed = await admin.ok("post", "/disqualification-reasons", {"label": "Gone soon"})
        assert (await admin.delete(f"/disqualification-reasons/{removed['id']}")).status_code == 204
        lead = await make_lead()
        for reason_id in (987654, removed["id"]):
            response = await admin.post(
                f"/leads/{lead['id']}/stage",
                {"stage_id": lead_stages["Disqualified"], "disqualification_reason_id": reason_id},
            )
            assert response.status_code == 422
            assert response.json()["errors"][0]["field"] == "disqualification_reason_id"
            assert response.json()["errors"][0]["rule"] == "exists"
        await assert_unmoved(admin, lead)

    async def test_a_reason_with_a_move_to_another_stage_is_refused(
        self, admin, make_lead, lead_stages
    ) -> None:
        reason = await a_reason(admin)
        lead = await make_lead()
        response = await admin.post(
            f"/leads/{lead['id']}/stage",
            {"stage_id": lead_stages["Attempting"], "disqualification_reason_id": reason["id"]},
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["rule"] == "only_on_disqualify"
        await assert_unmoved(admin, lead)

    async def test_moves_obey_the_settings_in_force_when_applied(
        self, admin, make_lead, lead_stages, lead_settings
    ) -> None:
        """Turning a requirement off takes effect for the very next move."""
        await lead_settings(require_disqualification_reason=True)
        lead = await make_lead()
        refused = await admin.post(
            f"/leads/{lead['id']}/stage", {"stage_id": lead_stages["Disqualified"]}
        )
        assert refused.status_code == 422
        await lead_settings(require_disqualification_reason=False)
        await admin.ok(
            "post", f"/leads/{lead['id']}/stage", {"stage_id": lead_stages["Disqualified"]}
        )
