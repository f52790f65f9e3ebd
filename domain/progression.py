"""Which templated rule, if any, moves a lead on an event (AUT-2, AUT-3, AUT-4, AUT-7, AUT-8).

Pure and deterministic: the lead workflow calls it with configuration read by an activity.
"""

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain.leads import LeadSnapshot


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ProgressionRuleView(_Frozen):
    """A progression rule with its stages' positions, as the workflow needs it."""

    name: str
    enabled: bool
    from_stage_id: int | None
    to_stage_id: int | None
    from_position: int | None = None
    to_position: int | None = None
    events: tuple[str, ...] = ()


class ProgressionConfig(_Frozen):
    pipeline_id: int
    rules: tuple[ProgressionRuleView, ...] = ()
    # Whether the pipeline is the default one when read (AUT-2); None in histories from before.
    is_default: bool | None = None


class LoadProgressionInput(_Frozen):
    pipeline_id: int


def choose_rule(
    config: ProgressionConfig,
    lead: LeadSnapshot,
    event_kinds: tuple[str, ...],
    occurred_at: datetime,
) -> ProgressionRuleView | None:
    """The rule this event fires for this lead, or None. One event moves a lead one step."""
    if not lead.is_default_pipeline or lead.is_closed or not lead.auto_progression:
        return None
    # Events from before a person last moved the lead speak of a state that no longer holds.
    if lead.last_manual_move_at is not None and occurred_at < lead.last_manual_move_at:
        return None
    for rule in config.rules:
        if (
            rule.enabled
            and rule.from_stage_id == lead.stage_id
            and rule.to_stage_id is not None
            and rule.to_stage_id != lead.stage_id
            # Never backwards, whatever an admin configured.
            and (
                rule.from_position is None
                or rule.to_position is None
                or rule.to_position > rule.from_position
            )
            and any(kind in rule.events for kind in event_kinds)
        ):
            return rule
    return None
