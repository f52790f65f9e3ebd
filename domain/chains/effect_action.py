"""What an action type with a side effect declares about itself, so the layers around it stay
generic: how a dry run describes it, which records its config names (checked on save), and
what a failed step says it was doing.

Action types written this way (the marketing and CRM-and-data groups) each live in their
group's module with their config; `planning`, the save-time reference check and the activity
read these methods instead of a branch per type.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, NamedTuple

from domain.chains.base import _Action
from domain.chains.properties import ChainContext


class RecordKind(StrEnum):
    """Records a config may name by id; a save naming one that does not exist is refused."""

    USER = "user"
    SEQUENCE = "sequence"
    CONTACT_LIST = "list"
    DEAL_STAGE = "deal_stage"


class Reference(NamedTuple):
    """`config.<field>` names record `id` of `kind`."""

    field: str
    kind: RecordKind
    id: int


@dataclass(frozen=True)
class Plan:
    """What a dry run says a step would do (`summary`), why (`reason`) and the values."""

    summary: str
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def lead_contact_id(context: ChainContext) -> int | None:
    return _int(context.lead.get("contact_id")) or _int(context.contact.get("id"))


def lead_deal_id(context: ChainContext) -> int | None:
    return _int(context.lead.get("deal_id"))


class EffectAction(_Action):
    # Completes "database error while ..." when the step fails unexpectedly.
    doing: ClassVar[str] = "running the action"

    def plan(self, context: ChainContext, now: datetime) -> Plan:
        """What the action would do to the lead in `context` at `now`; no I/O."""
        raise NotImplementedError

    def references(self) -> tuple[Reference, ...]:
        """The records the config names; each must exist when the chain is saved."""
        return ()
