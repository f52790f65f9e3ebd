"""Guided actions (GA-1..GA-28) as pure rules: the types, the snapshots of the records they
read, and the verdict of each type on a snapshot at an instant."""

from domain.guided.rules import evaluate, rearms
from domain.guided.snapshots import (
    CallSnapshot,
    ContactSnapshot,
    DealSnapshot,
    LeadSnapshot,
    MeetingSnapshot,
    Snapshot,
    TaskSnapshot,
)
from domain.guided.tasks import may_be_listed
from domain.guided.types import TYPES, Category, GuidedType, ObjectKind, TypeInfo, types_for
from domain.guided.verdicts import Verdict

__all__ = [
    "TYPES",
    "CallSnapshot",
    "Category",
    "ContactSnapshot",
    "DealSnapshot",
    "GuidedType",
    "LeadSnapshot",
    "MeetingSnapshot",
    "ObjectKind",
    "Snapshot",
    "TaskSnapshot",
    "TypeInfo",
    "Verdict",
    "evaluate",
    "may_be_listed",
    "rearms",
    "types_for",
]
