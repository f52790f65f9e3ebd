"""A chain's workflow-level settings (ACT-7): their rules and who they let enroll."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.chains.settings import (
    ChainSettings,
    OnLeave,
    ReEnrollment,
    chain_workflow_name,
    dump_settings,
    enrollment_refusal,
    parse_settings,
)
from domain.errors import InvalidInput

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


class TestEnrollmentRefusal:
    def test_a_disabled_chain_refuses_even_a_first_entry(self) -> None:
        assert enrollment_refusal(ChainSettings(enabled=False), [], NOW) == (
            "the chain is switched off"
        )

    def test_every_entry_lets_each_entry_in(self) -> None:
        assert enrollment_refusal(ChainSettings(), [NOW - timedelta(minutes=1)], NOW) is None

    def test_first_entry_only_lets_in_the_first_and_no_other(self) -> None:
        once = ChainSettings(re_enrollment=ReEnrollment.FIRST_ENTRY_ONLY)
        assert enrollment_refusal(once, [], NOW) is None
        assert enrollment_refusal(once, [NOW - timedelta(days=900)], NOW) is not None

    @pytest.mark.parametrize(
        ("ago", "allowed"),
        [
            (timedelta(days=6, hours=23), False),
            (timedelta(days=7), True),
            (timedelta(days=30), True),
        ],
    )
    def test_once_per_days_counts_from_the_latest_run(self, ago, allowed) -> None:
        weekly = ChainSettings(re_enrollment=ReEnrollment.ONCE_PER_DAYS, days=7)
        starts = [NOW - timedelta(days=40), NOW - ago]
        assert (enrollment_refusal(weekly, starts, NOW) is None) == allowed


class TestParsing:
    def test_defaults_dump_to_what_a_version_stores_and_read_back(self) -> None:
        settings = parse_settings({"on_leave": "finish", "name": "Follow-up"})
        assert settings.on_leave == OnLeave.FINISH
        assert dump_settings(settings) == {
            "name": "Follow-up",
            "enabled": True,
            "re_enrollment": "every_entry",
            "on_leave": "finish",
        }
        assert parse_settings(dump_settings(settings)) == settings

    @pytest.mark.parametrize(
        ("raw", "field", "rule"),
        [
            ({"re_enrollment": "once_per_days"}, "days", "days_required"),
            ({"days": 3}, "days", "days_unused"),
            (
                {"window": {"weekdays": [1], "start": "10:00", "end": "09:00", "time_zone": "UTC"}},
                "window.end",
                "start_before_end",
            ),
            (
                {"window": {"weekdays": [1], "start": "09:00", "end": "10:00", "time_zone": "X"}},
                "window.time_zone",
                "time_zone",
            ),
        ],
    )
    def test_a_broken_rule_names_the_field_to_change(self, raw, field, rule) -> None:
        with pytest.raises(InvalidInput) as caught:
            parse_settings(raw)
        assert [(e.field, e.rule) for e in caught.value.errors] == [(field, rule)]


def test_the_chain_workflow_id_names_the_stage_not_the_version() -> None:
    assert chain_workflow_name(12) == "stage-chain-12"
