"""The property catalogue: what a chain may read and write, and the snapshot it reads."""

from collections.abc import Mapping
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, TypeAlias
from zoneinfo import ZoneInfo

from pydantic import ConfigDict, Field
from pydantic_core import PydanticCustomError

from domain.bounds import FiniteFloat, Text
from domain.chains.base import _Model
from domain.leads import LeadLabel
from domain.lifecycle import LifecycleStage

JsonScalar: TypeAlias = Annotated[str, Text(20000)] | int | FiniteFloat | bool | None


class PropertyKind(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATETIME = "datetime"


# The names branches, templates and `set_property` may use: the real columns of the records a
# chain sees. `ChainContext` carries them as JSON scalars (datetimes as RFC 3339 strings).
PROPERTIES: Mapping[str, PropertyKind] = {
    "lead.id": PropertyKind.INTEGER,
    "lead.name": PropertyKind.STRING,
    "lead.label": PropertyKind.STRING,
    "lead.lead_type": PropertyKind.STRING,
    "lead.source": PropertyKind.STRING,
    "lead.owner_id": PropertyKind.INTEGER,
    "lead.pipeline_id": PropertyKind.INTEGER,
    "lead.stage_id": PropertyKind.INTEGER,
    "lead.contact_id": PropertyKind.INTEGER,
    "lead.company_id": PropertyKind.INTEGER,
    "lead.deal_id": PropertyKind.INTEGER,
    "lead.parent_lead_id": PropertyKind.INTEGER,
    "lead.auto_progression": PropertyKind.BOOLEAN,
    "lead.disqualification_reason_id": PropertyKind.INTEGER,
    "lead.created_at": PropertyKind.DATETIME,
    "contact.id": PropertyKind.INTEGER,
    "contact.first_name": PropertyKind.STRING,
    "contact.last_name": PropertyKind.STRING,
    "contact.email": PropertyKind.STRING,
    "contact.lifecycle_stage": PropertyKind.STRING,
    "contact.owner_id": PropertyKind.INTEGER,
    "contact.company_id": PropertyKind.INTEGER,
    "contact.created_at": PropertyKind.DATETIME,
    "company.id": PropertyKind.INTEGER,
    "company.name": PropertyKind.STRING,
    "company.domain": PropertyKind.STRING,
    "company.lifecycle_stage": PropertyKind.STRING,
    "company.is_target_account": PropertyKind.BOOLEAN,
    "company.owner_id": PropertyKind.INTEGER,
    "company.created_at": PropertyKind.DATETIME,
    "owner.id": PropertyKind.INTEGER,
    "owner.name": PropertyKind.STRING,
    "owner.email": PropertyKind.STRING,
    "owner.time_zone": PropertyKind.STRING,
}

# What `set_property` may change. Ids, owners and stages have their own actions or rules.
WRITABLE_PROPERTIES = frozenset(
    {
        "lead.name",
        "lead.label",
        "lead.lead_type",
        "contact.first_name",
        "contact.last_name",
        "contact.email",
        "contact.lifecycle_stage",
        "company.name",
        "company.domain",
        "company.lifecycle_stage",
        "company.is_target_account",
    }
)

# The columns `set_property` writes, as long as each may be; all of them are single lines.
WRITABLE_LENGTHS: Mapping[str, int] = {
    "lead.name": 200,
    "lead.lead_type": 50,
    "contact.first_name": 100,
    "contact.last_name": 100,
    "contact.email": 320,
    "company.name": 200,
    "company.domain": 253,
}

# Properties whose values come from a fixed list; a branch or set_property naming another
# value could never match or would store garbage.
ENUM_VALUES: Mapping[str, frozenset[str]] = {
    "lead.label": frozenset(LeadLabel),
    "lead.source": frozenset({"manual", "lifecycle_stage", "follow_up"}),
    "contact.lifecycle_stage": frozenset(LifecycleStage),
    "company.lifecycle_stage": frozenset(LifecycleStage),
}


def _check_property(name: str, *, writable: bool = False) -> str:
    if name not in PROPERTIES:
        raise PydanticCustomError(
            "unknown_property",
            "unknown property {name}; use one of lead.*, contact.*, company.*, owner.* "
            "as listed in the chain documentation",
            {"name": name},
        )
    if writable and name not in WRITABLE_PROPERTIES:
        raise PydanticCustomError(
            "read_only_property",
            "{name} cannot be set by a chain; settable: {allowed}",
            {"name": name, "allowed": ", ".join(sorted(WRITABLE_PROPERTIES))},
        )
    return name


def _check_value(name: str, kind: PropertyKind, value: JsonScalar) -> None:
    if value is None:
        return
    ok = {
        PropertyKind.STRING: isinstance(value, str),
        PropertyKind.INTEGER: isinstance(value, int) and not isinstance(value, bool),
        PropertyKind.NUMBER: isinstance(value, int | float) and not isinstance(value, bool),
        PropertyKind.BOOLEAN: isinstance(value, bool),
        PropertyKind.DATETIME: isinstance(value, str) and _as_datetime(value) is not None,
    }[kind]
    if not ok:
        raise PydanticCustomError(
            "value_type", "{name} is a {kind}", {"name": name, "kind": kind.value}
        )
    allowed = ENUM_VALUES.get(name)
    if allowed is not None and value not in allowed:
        raise PydanticCustomError(
            "value_choice",
            "{name} is one of {allowed}",
            {"name": name, "allowed": ", ".join(sorted(allowed))},
        )


def _as_datetime(value: JsonScalar) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), time())
        except ValueError:
            return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=ZoneInfo("UTC"))


class ChainContext(_Model):
    """What a chain sees of a lead: property snapshots keyed by column name (`lead["label"]`).

    Loaded by one activity at the start of a run (and again before a branch if the workflow
    wants fresh data); a missing contact, company or owner is an empty dict.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    lead: dict[str, JsonScalar] = Field(default_factory=dict)
    contact: dict[str, JsonScalar] = Field(default_factory=dict)
    company: dict[str, JsonScalar] = Field(default_factory=dict)
    owner: dict[str, JsonScalar] = Field(default_factory=dict)

    def value(self, name: str) -> JsonScalar:
        """The value of `lead.label`-style property `name`; None when unknown or unset."""
        record, _, column = name.partition(".")
        values: dict[str, JsonScalar] | None = {
            "lead": self.lead,
            "contact": self.contact,
            "company": self.company,
            "owner": self.owner,
        }.get(record)
        return None if values is None else values.get(column)
