"""Templated pipeline automation (AUT-*): the rules, their events and what a valid setup is.

Each lead pipeline has exactly these rules; they can be switched off but never deleted, and a
switched-off rule keeps its parameters (AUT-1, AUT-5). The create-lead-on-lifecycle rule is
account-wide and lives in the lead settings (SET-7), so it is not part of `AutomationConfig`.
"""

from collections.abc import Collection, Mapping, Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.errors import FieldError
from domain.stages import StageKind


class RuleName(StrEnum):
    """Rule names as lead history shows them (`automation:<rule>`) and as errors name them."""

    CREATE_LEAD_ON_LIFECYCLE = "create_lead_on_lifecycle"
    FOLLOW_UP_ON_DISQUALIFY = "follow_up_on_disqualify"
    ADVANCE_ON_OUTREACH = "advance_on_outreach"
    ADVANCE_ON_CONNECT = "advance_on_connect"


class ProgressionEvent(StrEnum):
    """Sales activity that may advance a lead; each progression rule accepts its own subset."""

    # AUT-3: the user reaches out.
    EMAIL_SENT = "email_sent"
    LINKEDIN_MESSAGE = "linkedin_message"
    CALL = "call"
    MEETING_SCHEDULED = "meeting_scheduled"
    # AUT-4: the lead connects (a call counts only with outcome "connected").
    EMAIL_REPLY = "email_reply"
    MEETING_BOOKED_BY_CONTACT = "meeting_booked_by_contact"
    CALL_CONNECTED = "call_connected"


OUTREACH_EVENTS: tuple[ProgressionEvent, ...] = (
    ProgressionEvent.EMAIL_SENT,
    ProgressionEvent.LINKEDIN_MESSAGE,
    ProgressionEvent.CALL,
    ProgressionEvent.MEETING_SCHEDULED,
)
CONNECT_EVENTS: tuple[ProgressionEvent, ...] = (
    ProgressionEvent.EMAIL_REPLY,
    ProgressionEvent.MEETING_BOOKED_BY_CONTACT,
    ProgressionEvent.CALL_CONNECTED,
)
RULE_EVENTS: Mapping[RuleName, tuple[ProgressionEvent, ...]] = {
    RuleName.ADVANCE_ON_OUTREACH: OUTREACH_EVENTS,
    RuleName.ADVANCE_ON_CONNECT: CONNECT_EVENTS,
}


class _Rule(BaseModel):
    # Frozen: activities hand these to workflows, which must not change what history recorded.
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProgressionRule(_Rule):
    """Move a lead from one stage to another when a selected event concerns it (AUT-3 to AUT-7).

    Stages may be unset only while the rule is off (a pipeline with too few open stages).
    """

    enabled: bool
    from_stage_id: int | None = None
    to_stage_id: int | None = None
    events: tuple[ProgressionEvent, ...] = Field(min_length=1)


class FollowUpRule(_Rule):
    """Create a follow-up lead of `lead_type` when a lead is disqualified for one of the reasons."""

    enabled: bool = False
    lead_type: str | None = None
    reason_ids: tuple[int, ...] = ()

    def creates_follow_up(self, reason_id: int | None) -> bool:
        """Whether disqualifying a lead with `reason_id` creates a follow-up lead (AUT-12)."""
        return self.enabled and reason_id is not None and reason_id in self.reason_ids


class AutomationConfig(_Rule):
    """The templated rules of one lead pipeline."""

    follow_up_on_disqualify: FollowUpRule = FollowUpRule()
    advance_on_outreach: ProgressionRule
    advance_on_connect: ProgressionRule

    def progression_rules(self) -> dict[RuleName, ProgressionRule]:
        return {
            RuleName.ADVANCE_ON_OUTREACH: self.advance_on_outreach,
            RuleName.ADVANCE_ON_CONNECT: self.advance_on_connect,
        }


class StageRef(BaseModel):
    """What validation needs to know about a stage of the pipeline: its id and kind, in order."""

    model_config = ConfigDict(frozen=True)

    id: int
    kind: StageKind


def default_config(stages: Sequence[StageRef]) -> AutomationConfig:
    """The rules a new lead pipeline starts with (AUT-3, AUT-4).

    Outreach moves the first open stage to the second, connect the second to the third (New ->
    Attempting -> Connected in the seeded pipeline). A pipeline with too few open stages gets the
    rule switched off with its stages unset; an admin can set them once the stages exist.
    """
    open_ids = [s.id for s in stages if s.kind == StageKind.OPEN]

    def rule(start: int, events: tuple[ProgressionEvent, ...]) -> ProgressionRule:
        if len(open_ids) < start + 2:
            return ProgressionRule(enabled=False, events=events)
        return ProgressionRule(
            enabled=True,
            from_stage_id=open_ids[start],
            to_stage_id=open_ids[start + 1],
            events=events,
        )

    return AutomationConfig(
        advance_on_outreach=rule(0, OUTREACH_EVENTS),
        advance_on_connect=rule(1, CONNECT_EVENTS),
    )


def backward_rules(config: AutomationConfig, stage_order: Sequence[int]) -> list[RuleName]:
    """Enabled progression rules whose target stage comes before their source in `stage_order`.

    Automation never moves a lead backwards, so such a rule could never fire (AUT-6).
    """
    index = {stage_id: i for i, stage_id in enumerate(stage_order)}
    return [
        name
        for name, rule in config.progression_rules().items()
        if rule.enabled
        and rule.from_stage_id in index
        and rule.to_stage_id in index
        and index[rule.to_stage_id] < index[rule.from_stage_id]
    ]


def validate_config(
    config: AutomationConfig,
    stages: Sequence[StageRef],
    lead_types: Collection[str],
    reason_ids: Collection[int],
) -> list[FieldError]:
    """Every broken rule of `config` for a pipeline with `stages`, in order (AUT-6, AUT-10).

    `lead_types` are the keys that may be chosen, `reason_ids` the reasons not removed. Progression
    rules move leads between open stages only: an automatic move cannot bring the deal or the
    reason that closing a lead may require (QUA-2, DIS-2).
    """
    errors: list[FieldError] = []
    kinds = {s.id: s.kind for s in stages}
    for name, rule in config.progression_rules().items():
        errors += _progression_errors(name, rule, kinds)
    for name in backward_rules(config, [s.id for s in stages]):
        errors.append(
            FieldError(
                f"{name}.to_stage_id",
                "later_stage",
                f"{name} would move leads backwards: stage {getattr(config, name).to_stage_id} "
                f"comes before stage {getattr(config, name).from_stage_id}, and automation "
                "never moves a lead backwards",
            )
        )
    errors += _follow_up_errors(config.follow_up_on_disqualify, lead_types, reason_ids)
    return errors


def _progression_errors(
    name: RuleName, rule: ProgressionRule, kinds: Mapping[int, StageKind]
) -> list[FieldError]:
    errors: list[FieldError] = []
    allowed = RULE_EVENTS[name]
    foreign = [e.value for e in rule.events if e not in allowed]
    if foreign:
        errors.append(
            FieldError(
                f"{name}.events",
                "event_of_rule",
                f"{name} accepts only {', '.join(e.value for e in allowed)}; "
                f"not {', '.join(foreign)}",
            )
        )
    if len(set(rule.events)) != len(rule.events):
        errors.append(FieldError(f"{name}.events", "unique", f"{name} lists an event twice"))
    for end in ("from_stage_id", "to_stage_id"):
        stage_id: int | None = getattr(rule, end)
        if stage_id is None:
            if rule.enabled:
                errors.append(
                    FieldError(f"{name}.{end}", "required", f"an enabled {name} needs {end}")
                )
        elif stage_id not in kinds:
            errors.append(
                FieldError(
                    f"{name}.{end}",
                    "stage_in_pipeline",
                    f"stage {stage_id} is not a stage of this pipeline",
                )
            )
        elif kinds[stage_id] != StageKind.OPEN:
            errors.append(
                FieldError(
                    f"{name}.{end}",
                    "open_stage",
                    f"{name} moves leads between open stages; stage {stage_id} is "
                    f"{kinds[stage_id].value}",
                )
            )
    if rule.from_stage_id is not None and rule.from_stage_id == rule.to_stage_id:
        errors.append(
            FieldError(
                f"{name}.to_stage_id",
                "differs_from_from_stage",
                f"{name} must move a lead to another stage than the one it is in",
            )
        )
    return errors


def _follow_up_errors(
    rule: FollowUpRule, lead_types: Collection[str], reason_ids: Collection[int]
) -> list[FieldError]:
    name = RuleName.FOLLOW_UP_ON_DISQUALIFY
    errors: list[FieldError] = []
    if rule.lead_type is None:
        if rule.enabled:
            errors.append(
                FieldError(f"{name}.lead_type", "required", f"an enabled {name} needs a lead type")
            )
    elif rule.lead_type not in lead_types:
        errors.append(
            FieldError(
                f"{name}.lead_type", "exists", f"lead type {rule.lead_type!r} does not exist"
            )
        )
    if not rule.reason_ids and rule.enabled:
        errors.append(
            FieldError(
                f"{name}.reason_ids",
                "required",
                f"an enabled {name} needs at least one disqualification reason",
            )
        )
    unknown = [r for r in rule.reason_ids if r not in reason_ids]
    if unknown:
        errors.append(
            FieldError(
                f"{name}.reason_ids",
                "exists",
                "disqualification reasons that do not exist or were removed: "
                + ", ".join(str(r) for r in unknown),
            )
        )
    if len(set(rule.reason_ids)) != len(rule.reason_ids):
        errors.append(FieldError(f"{name}.reason_ids", "unique", f"{name} lists a reason twice"))
    return errors
