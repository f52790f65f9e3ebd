"""The CRM-and-data actions (ACT-2): the lead's deal, copied properties and the lead label,
changed once per key `<workflow id>/<action id>/<seq>` however often the activity retries."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from db.models import Contact, Deal, DealStageChange, Lead
from domain.chains import (
    CopyPropertyConfig,
    CreateDealConfig,
    SetLeadLabelConfig,
    UpdateDealConfig,
)
from domain.errors import InvalidInput
from services import chain_effects, crm_effects


def key() -> str:
    return f"chain-{uuid.uuid4().hex}/a_00000002/1"


class TestUpdateDeal:
    async def test_retried_under_one_key_moves_the_deal_once_and_keeps_its_history(
        self, make_lead, make_pipeline, session_factory
    ) -> None:
        lead = await make_lead()
        pipeline = await make_pipeline("deal")
        won = pipeline["stages"][1]["id"]
        now = datetime(2030, 5, 1, tzinfo=UTC)
        config = UpdateDealConfig.model_validate(
            {"stage_id": won, "amount": "2500.50", "close_in": "P10D"}
        )
        k = key()
        async with session_factory() as session:
            made = await chain_effects.create_deal(session, key(), lead["id"], CreateDealConfig())
            first = await crm_effects.update_deal(session, k, lead["id"], config, now=now)
            again = await crm_effects.update_deal(session, k, lead["id"], config, now=now)
            deal = await session.get(Deal, made["deal_id"])
            history = await session.scalar(
                select(func.count()).where(DealStageChange.deal_id == made["deal_id"])
            )
        assert first == again
        assert first["deal_id"] == made["deal_id"]
        assert first["changes"]["stage_id"]["to"] == won
        assert deal is not None and deal.stage_id == won and deal.pipeline_id == pipeline["id"]
        assert deal.amount == Decimal("2500.50") and deal.close_date == date(2030, 5, 11)
        assert history == 1

    async def test_a_lead_without_a_deal_is_skipped(self, make_lead, session_factory) -> None:
        lead = await make_lead()
        config = UpdateDealConfig.model_validate({"amount": "10"})
        async with session_factory() as session:
            result = await crm_effects.update_deal(session, key(), lead["id"], config)
        assert result == {"skipped": "the lead has no deal"}

    async def test_a_stage_that_is_not_a_deal_stage_fails_the_step_naming_the_field(
        self, make_lead, lead_stages, session_factory
    ) -> None:
        lead = await make_lead()
        config = UpdateDealConfig(stage_id=next(iter(lead_stages.values())))
        async with session_factory() as session:
            await chain_effects.create_deal(session, key(), lead["id"], CreateDealConfig())
            with pytest.raises(InvalidInput) as raised:
                await crm_effects.update_deal(session, key(), lead["id"], config)
        assert raised.value.errors[0].field == "config.stage_id"


class TestCopyProperty:
    async def test_retried_under_one_key_copies_the_value_of_the_first_run(
        self, make_lead, session_factory
    ) -> None:
        lead = await make_lead()
        config = CopyPropertyConfig.model_validate(
            {"from": "contact.first_name", "to": "lead.name"}
        )
        k = key()
        async with session_factory() as session:
            first = await crm_effects.copy_property(session, k, lead["id"], config)
        async with session_factory() as session, session.begin():
            contact = await session.get(Contact, lead["contact_id"])
            assert contact is not None
            contact.first_name = "Changed"
        async with session_factory() as session:
            again = await crm_effects.copy_property(session, k, lead["id"], config)
            stored = await session.get(Lead, lead["id"])
        assert first == again
        assert first == {
            "source": "contact.first_name",
            "property": "lead.name",
            "from": lead["name"],
            "to": "Jo",
        }
        assert stored is not None and stored.name == "Jo"

    async def test_the_lead_copies_back_to_its_company(
        self, admin, make_lead, session_factory
    ) -> None:
        company = await admin.ok("post", "/companies", {"name": "Old name"}, status=201)
        lead = await make_lead(name="Acme expansion", company_id=company["id"])
        config = CopyPropertyConfig.model_validate({"from": "lead.name", "to": "company.name"})
        async with session_factory() as session:
            result = await crm_effects.copy_property(session, key(), lead["id"], config)
        assert result["to"] == "Acme expansion" and result["from"] == "Old name"
        assert (await admin.ok("get", f"/companies/{company['id']}"))["name"] == "Acme expansion"

    async def test_an_unset_source_is_skipped_and_the_target_kept(
        self, admin, make_lead, session_factory
    ) -> None:
        contact = await admin.ok("post", "/contacts", {"first_name": "Al"}, status=201)
        lead = await make_lead(contact_id=contact["id"])
        config = CopyPropertyConfig.model_validate({"from": "contact.last_name", "to": "lead.name"})
        async with session_factory() as session:
            result = await crm_effects.copy_property(session, key(), lead["id"], config)
            stored = await session.get(Lead, lead["id"])
        assert result == {"skipped": "contact.last_name is not set"}
        assert stored is not None and stored.name == lead["name"]


class TestSetLeadLabel:
    async def test_retried_under_one_key_sets_the_label_of_the_first_run(
        self, make_lead, session_factory
    ) -> None:
        lead = await make_lead(label="cold")
        k = key()
        async with session_factory() as session:
            first = await crm_effects.set_lead_label(
                session, k, lead["id"], SetLeadLabelConfig.model_validate({"label": "hot"})
            )
            again = await crm_effects.set_lead_label(
                session, k, lead["id"], SetLeadLabelConfig.model_validate({"label": None})
            )
            stored = await session.get(Lead, lead["id"])
        assert first == again == {"from": "cold", "to": "hot"}
        assert stored is not None and stored.label == "hot"
