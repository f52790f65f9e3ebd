"""The CRM-and-data group: change the lead's deal, copy a property between the lead and its
contact or company, set the lead's label.

`update_deal` works on the lead's deal (`lead.deal_id`); a lead without one is skipped, like
any step with nothing to act on. `copy_property` reads the source when it runs, so it copies
the value of that moment; an unset source is skipped rather than clearing the target.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from domain.bounds import CalendarDate, RecordId, bounded_duration
from domain.chains.base import _Model
from domain.chains.configs import MAX_CLOSE_IN
from domain.chains.effect_action import (
    EffectAction,
    Plan,
    RecordKind,
    Reference,
    lead_deal_id,
)
from domain.chains.properties import (
    ENUM_VALUES,
    PROPERTIES,
    WRITABLE_LENGTHS,
    WRITABLE_PROPERTIES,
    ChainContext,
    _check_property,
)
from domain.leads import LeadLabel

NO_DEAL = "the lead has no deal"

# Lead types are keys an admin configures; a copied value could name none of them.
COPY_TARGETS = WRITABLE_PROPERTIES - {"lead.lead_type"}
_RECORDS_BESIDE_THE_LEAD = frozenset({"contact", "company"})


class UpdateDealConfig(_Model):
    stage_id: RecordId | None = Field(
        default=None,
        description="A stage of a deal pipeline; the deal moves to that stage's pipeline",
    )
    amount: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    close_in: Annotated[timedelta, bounded_duration(MAX_CLOSE_IN)] | None = Field(
        default=None, description="Close date = the step's day + this; positive, at most P1825D"
    )
    close_date: CalendarDate | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> "UpdateDealConfig":
        if self.close_in is not None and self.close_date is not None:
            raise PydanticCustomError("one_of", "give close_in or close_date, not both")
        if (self.stage_id, self.amount, self.close_in, self.close_date) == (None,) * 4:
            raise PydanticCustomError(
                "not_empty", "give at least one of stage_id, amount, close_in, close_date"
            )
        return self

    def close_on(self, now: datetime) -> date | None:
        if self.close_in is not None:
            return (now + self.close_in).date()
        return self.close_date


def _most_characters(name: str) -> int | None:
    if name in ENUM_VALUES:
        return max(len(v) for v in ENUM_VALUES[name])
    return WRITABLE_LENGTHS.get(name)


def copy_problem(source: str, target: str) -> tuple[str, str] | None:
    """(rule, message) when `source` cannot be copied into `target`; None when it can.

    Copies go between the lead and its contact or company, either way, between properties of
    one kind; a target with a fixed list of values takes only a source whose values are all in
    it, and a bounded text only a source that always fits.
    """
    if source == target:
        return "same_property", "copy from one property to another"
    records = {source.partition(".")[0], target.partition(".")[0]}
    if "lead" not in records or not records - {"lead"} <= _RECORDS_BESIDE_THE_LEAD:
        return "copy_direction", "copy_property copies between the lead and its contact or company"
    kinds = PROPERTIES[source], PROPERTIES[target]
    if kinds[0] != kinds[1]:
        return (
            "incompatible_properties",
            f"{source} is a {kinds[0].value} and {target} a {kinds[1].value}",
        )
    allowed = ENUM_VALUES.get(target)
    if allowed is not None and not ENUM_VALUES.get(source, frozenset({""})) <= allowed:
        return (
            "incompatible_properties",
            f"{target} is one of {', '.join(sorted(allowed))}, which {source} need not be",
        )
    room = WRITABLE_LENGTHS.get(target)
    need = _most_characters(source)
    if room is not None and (need is None or need > room):
        return (
            "incompatible_properties",
            f"{source} holds up to {need or 'any number of'} characters, {target} only {room}",
        )
    return None


class CopyPropertyConfig(_Model):
    from_: str = Field(alias="from", examples=["contact.first_name"])
    to: str = Field(examples=["lead.name"])

    @field_validator("from_")
    @classmethod
    def _readable(cls, value: str) -> str:
        return _check_property(value)

    @field_validator("to")
    @classmethod
    def _fits(cls, value: str, info: ValidationInfo) -> str:
        _check_property(value, writable=True)
        if value not in COPY_TARGETS:
            raise PydanticCustomError(
                "read_only_property",
                "{name} cannot be a copy's target; targets: {allowed}",
                {"name": value, "allowed": ", ".join(sorted(COPY_TARGETS))},
            )
        source = info.data.get("from_")
        # Without a valid source its own error is reported; nothing to compare with.
        problem = None if source is None else copy_problem(source, value)
        if problem is not None:
            raise PydanticCustomError(problem[0], problem[1])
        return value


class SetLeadLabelConfig(_Model):
    label: LeadLabel | None = Field(description="hot, warm or cold; null clears the label")


class UpdateDealAction(EffectAction):
    type: Literal["update_deal"]
    config: UpdateDealConfig
    doing: ClassVar[str] = "updating the deal"

    def plan(self, context: ChainContext, now: datetime) -> Plan:
        c = self.config
        close = c.close_on(now)
        details = {
            "deal_id": lead_deal_id(context),
            "stage_id": c.stage_id,
            "amount": None if c.amount is None else str(c.amount),
            "close_date": None if close is None else close.isoformat(),
        }
        if details["deal_id"] is None:
            return Plan(f"skip: {NO_DEAL}", details=details)
        changes = [f"stage {c.stage_id}" if c.stage_id is not None else ""]
        changes += [f"amount {c.amount}" if c.amount is not None else ""]
        changes += [f"close date {close.isoformat()}" if close is not None else ""]
        summary = f"set deal {details['deal_id']}'s " + ", ".join(x for x in changes if x)
        return Plan(summary, details=details)

    def references(self) -> tuple[Reference, ...]:
        if self.config.stage_id is None:
            return ()
        return (Reference("stage_id", RecordKind.DEAL_STAGE, self.config.stage_id),)


class CopyPropertyAction(EffectAction):
    type: Literal["copy_property"]
    config: CopyPropertyConfig
    doing: ClassVar[str] = "copying the property"

    def plan(self, context: ChainContext, now: datetime) -> Plan:
        c = self.config
        value = context.value(c.from_)
        details = {"from": c.from_, "to": c.to, "value": value}
        if value is None or value == "":
            return Plan(f"skip: {c.from_} is not set", details=details)
        return Plan(
            f"copy {c.from_} ({value!r}) to {c.to}",
            reason=f"{c.to} is now {context.value(c.to)!r}",
            details=details,
        )


class SetLeadLabelAction(EffectAction):
    type: Literal["set_lead_label"]
    config: SetLeadLabelConfig
    doing: ClassVar[str] = "setting the lead label"

    def plan(self, context: ChainContext, now: datetime) -> Plan:
        label = self.config.label
        summary = "clear the lead label" if label is None else f"label the lead {label.value}"
        current = context.lead.get("label")
        return Plan(
            summary,
            reason=f"currently {current!r}",
            details={"from": current, "to": None if label is None else label.value},
        )
