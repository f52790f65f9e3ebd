"""The CRM-and-data actions' rules (ACT-2, ACT-3): which copies fit, what update_deal needs,
and what a dry run says."""

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from domain.chains import (
    COPY_TARGETS,
    PROPERTIES,
    ChainContext,
    CopyPropertyConfig,
    UpdateDealConfig,
    assign_ids,
    copy_problem,
    parse_actions,
    plan_steps,
)

NOW = datetime(2030, 1, 1, 9, tzinfo=UTC)


class TestCopyProblem:
    @pytest.mark.parametrize(
        ("source", "target"),
        [
            ("contact.first_name", "lead.name"),
            ("company.name", "lead.name"),
            ("lead.name", "company.name"),
            ("lead.auto_progression", "company.is_target_account"),
        ],
    )
    def test_properties_of_one_kind_that_fit_copy(self, source: str, target: str) -> None:
        assert copy_problem(source, target) is None

    @pytest.mark.parametrize(
        ("source", "target", "rule"),
        [
            ("lead.name", "lead.name", "same_property"),
            ("contact.first_name", "company.name", "copy_direction"),
            ("owner.name", "lead.name", "copy_direction"),
            ("lead.id", "contact.first_name", "incompatible_properties"),
            ("contact.email", "lead.name", "incompatible_properties"),
            ("lead.name", "lead.label", "incompatible_properties"),
            ("contact.lifecycle_stage", "lead.label", "incompatible_properties"),
        ],
    )
    def test_copies_that_could_not_hold_are_refused(
        self, source: str, target: str, rule: str
    ) -> None:
        problem = copy_problem(source, target)
        assert problem is not None and problem[0] == rule

    def test_every_allowed_copy_fits_its_target(self) -> None:
        """No pair the rule lets through can carry a value of the wrong kind."""
        for source in PROPERTIES:
            for target in COPY_TARGETS:
                if copy_problem(source, target) is None:
                    assert PROPERTIES[source] == PROPERTIES[target]

    def test_the_refusal_names_the_target_field(self) -> None:
        with pytest.raises(ValidationError) as raised:
            CopyPropertyConfig.model_validate({"from": "lead.name", "to": "contact.last_name"})
        assert raised.value.errors()[0]["loc"] == ("to",)


class TestUpdateDealConfig:
    def test_it_must_change_something(self) -> None:
        with pytest.raises(ValidationError, match="at least one"):
            UpdateDealConfig.model_validate({})

    def test_a_relative_close_date_counts_from_the_step(self) -> None:
        config = UpdateDealConfig.model_validate({"close_in": "P30D"})
        assert config.close_on(NOW) == date(2030, 1, 31)

    def test_a_negative_amount_is_refused(self) -> None:
        with pytest.raises(ValidationError):
            UpdateDealConfig.model_validate({"amount": "-1"})


def test_dry_run_text_of_the_data_actions() -> None:
    chain = parse_actions(
        assign_ids(
            [
                {"type": "update_deal", "config": {"stage_id": 7, "amount": "10"}},
                {"type": "copy_property", "config": {"from": "company.name", "to": "lead.name"}},
                {"type": "set_lead_label", "config": {"label": None}},
            ]
        )
    )
    context = ChainContext(lead={"deal_id": 3, "label": "warm", "name": "A"}, company={})
    steps = plan_steps(chain, context, NOW)
    assert [s.summary for s in steps] == [
        "set deal 3's stage 7, amount 10",
        "skip: company.name is not set",
        "clear the lead label",
    ]
    assert steps[2].details == {"from": "warm", "to": None}
