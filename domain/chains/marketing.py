"""The marketing group: put the lead's contact into a sales sequence or a static contact list,
or take it out.

Each works on the lead's contact; a lead without one is skipped. Enrolling a contact that is
enrolled already, or adding a member that is one, changes nothing and says so (`enrolled` /
`added` false): membership is a set, never a count.
"""

from dataclasses import replace
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from domain.bounds import RecordId
from domain.chains.base import _Model
from domain.chains.effect_action import (
    EffectAction,
    Plan,
    RecordKind,
    Reference,
    lead_contact_id,
)
from domain.chains.properties import ChainContext

NO_CONTACT = "the lead has no contact"


class EnrollInSequenceConfig(_Model):
    sequence_id: RecordId
    user_id: RecordId | None = Field(
        default=None, description="Who sends the sequence; the lead owner if absent"
    )


class SequenceConfig(_Model):
    sequence_id: RecordId


class ContactListConfig(_Model):
    list_id: RecordId


def _contact_plan(context: ChainContext, summary: str, details: dict[str, object]) -> Plan:
    contact_id = lead_contact_id(context)
    if contact_id is None:
        return Plan(f"skip: {NO_CONTACT}", details=details)
    return Plan(summary.format(contact=f"contact {contact_id}"), details=details)


class EnrollInSequenceAction(EffectAction):
    type: Literal["enroll_in_sequence"]
    config: EnrollInSequenceConfig
    doing: ClassVar[str] = "enrolling the contact in the sequence"

    def plan(self, context: ChainContext, now: datetime) -> Plan:
        sender = self.config.user_id or context.lead.get("owner_id")
        plan = _contact_plan(
            context,
            f"enroll {{contact}} in sequence {self.config.sequence_id}",
            {"sequence_id": self.config.sequence_id, "user_id": sender},
        )
        reason = "sender set on the action" if self.config.user_id else "sent by the lead owner"
        return replace(plan, reason=reason)

    def references(self) -> tuple[Reference, ...]:
        refs = [Reference("sequence_id", RecordKind.SEQUENCE, self.config.sequence_id)]
        if self.config.user_id is not None:
            refs.append(Reference("user_id", RecordKind.USER, self.config.user_id))
        return tuple(refs)


class UnenrollFromSequenceAction(EffectAction):
    type: Literal["unenroll_from_sequence"]
    config: SequenceConfig
    doing: ClassVar[str] = "unenrolling the contact from the sequence"

    def plan(self, context: ChainContext, now: datetime) -> Plan:
        return _contact_plan(
            context,
            f"unenroll {{contact}} from sequence {self.config.sequence_id}",
            {"sequence_id": self.config.sequence_id},
        )

    def references(self) -> tuple[Reference, ...]:
        return (Reference("sequence_id", RecordKind.SEQUENCE, self.config.sequence_id),)


class AddToListAction(EffectAction):
    type: Literal["add_to_list"]
    config: ContactListConfig
    doing: ClassVar[str] = "adding the contact to the list"

    def plan(self, context: ChainContext, now: datetime) -> Plan:
        return _contact_plan(
            context,
            f"add {{contact}} to list {self.config.list_id}",
            {"list_id": self.config.list_id},
        )

    def references(self) -> tuple[Reference, ...]:
        return (Reference("list_id", RecordKind.CONTACT_LIST, self.config.list_id),)


class RemoveFromListAction(EffectAction):
    type: Literal["remove_from_list"]
    config: ContactListConfig
    doing: ClassVar[str] = "removing the contact from the list"

    def plan(self, context: ChainContext, now: datetime) -> Plan:
        return _contact_plan(
            context,
            f"remove {{contact}} from list {self.config.list_id}",
            {"list_id": self.config.list_id},
        )

    def references(self) -> tuple[Reference, ...]:
        return (Reference("list_id", RecordKind.CONTACT_LIST, self.config.list_id),)
