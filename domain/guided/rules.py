"""evaluate(): the verdict of one guided-action type on one record's snapshot (GA-1, GA-2, GA-9).

How the engine uses it, per record and type:
- `item_created_at` is the creation of the record's open item of this type for the verdict's
  user. Windows counted from the item's creation ("existed N days", "created more than N days
  ago", GA-9) run from it; with None they run from `now` (an item created now).
- An item that ran out its window, or was marked done, must not come straight back while
  nothing changed: keep passing that item's `created_at` (the verdict stays `holds=False`)
  until `rearms()` says the situation it was about is over; from then on pass None.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from domain.guided import contacts, deals, leads, meetings, tasks
from domain.guided.snapshots import (
    CallSnapshot,
    ContactSnapshot,
    DealSnapshot,
    LeadSnapshot,
    MeetingSnapshot,
    Snapshot,
    TaskSnapshot,
)
from domain.guided.types import TYPES, GuidedType, ObjectKind
from domain.guided.verdicts import Verdict

Rule = Callable[[Any, datetime, datetime | None], Verdict]

_RULES: dict[GuidedType, Rule] = {
    **contacts.RULES,
    **leads.RULES,
    **meetings.RULES,
    **meetings.CALL_RULES,
    **tasks.RULES,
    **deals.RULES,
}

SNAPSHOT_TYPES: dict[ObjectKind, type[Snapshot]] = {
    ObjectKind.CONTACT: ContactSnapshot,
    ObjectKind.LEAD: LeadSnapshot,
    ObjectKind.MEETING: MeetingSnapshot,
    ObjectKind.CALL: CallSnapshot,
    ObjectKind.TASK: TaskSnapshot,
    ObjectKind.DEAL: DealSnapshot,
}


def evaluate(
    guided_type: GuidedType,
    snapshot: Snapshot,
    now: datetime,
    item_created_at: datetime | None = None,
) -> Verdict:
    """The verdict of `guided_type` on `snapshot` at `now` (aware datetimes).

    Raises TypeError when the snapshot is not of the kind the type lists.
    """
    expected = SNAPSHOT_TYPES[TYPES[guided_type].object]
    if not isinstance(snapshot, expected):
        raise TypeError(
            f"{guided_type.value} reads a {expected.__name__}, not {type(snapshot).__name__}"
        )
    return _RULES[guided_type](snapshot, now, item_created_at)


def rearms(guided_type: GuidedType, snapshot: Snapshot, now: datetime) -> bool:
    """Whether a past item of this type on this record (ended by its window, or done) no
    longer keeps a new one from being created: the criteria fail now, windows aside."""
    return not evaluate(guided_type, snapshot, now, None).holds
