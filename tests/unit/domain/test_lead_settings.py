from domain.lead_settings import (
    CreateLeadOnLifecycle,
    LeadSettings,
    SetLifecycleOnAssociate,
    validate_settings,
)
from domain.lifecycle import LifecycleStage

MQL = LifecycleStage.MARKETING_QUALIFIED_LEAD


def test_defaults_are_valid_and_require_nothing() -> None:
    """QUA-1, DIS-1: both requirements start off."""
    settings = LeadSettings()
    assert validate_settings(settings) == []
    assert not settings.require_deal_on_qualify and not settings.require_disqualification_reason


def test_enabling_lifecycle_creation_needs_a_stage_set_2() -> None:
    """SET-2."""
    settings = LeadSettings(create_lead_on_lifecycle=CreateLeadOnLifecycle(enabled=True))
    assert [(e.field, e.rule) for e in validate_settings(settings)] == [
        ("create_lead_on_lifecycle.stages", "required")
    ]


def test_setting_on_associate_needs_a_stage_set_6() -> None:
    settings = LeadSettings(set_lifecycle_on_associate=SetLifecycleOnAssociate(enabled=True))
    assert [(e.field, e.rule) for e in validate_settings(settings)] == [
        ("set_lifecycle_on_associate.stage", "required")
    ]


def test_a_trigger_is_an_enabled_chosen_stage_set_3_set_5() -> None:
    """SET-3, SET-5."""
    rule = CreateLeadOnLifecycle(enabled=True, stages=(MQL,))
    on = LeadSettings(create_lead_on_lifecycle=rule)
    assert on.is_trigger("marketingqualifiedlead")
    assert not on.is_trigger("customer") and not on.is_trigger(None)
    off = LeadSettings(create_lead_on_lifecycle=rule.model_copy(update={"enabled": False}))
    assert not off.is_trigger("marketingqualifiedlead")


def test_a_stage_listed_twice_is_refused() -> None:
    settings = LeadSettings(
        create_lead_on_lifecycle=CreateLeadOnLifecycle(enabled=True, stages=(MQL, MQL))
    )
    assert [e.rule for e in validate_settings(settings)] == ["unique"]
