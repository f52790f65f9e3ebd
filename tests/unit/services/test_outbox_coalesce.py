"""A batch owes each lead one signal carrying its events in order, and a relay pass delivers a
record's owed evaluations as one signal (services/outbox.py)."""

from typing import Any

from db.models import OutboxMessage
from services.outbox import (
    EVALUATE_GUIDED,
    LEAD_EVENT,
    LEAD_EVENTS,
    REFRESH_LEAD,
    Owed,
    coalesce_events,
    deliveries,
)


def event(lead_id: int, event_id: str) -> Owed:
    return Owed(
        LEAD_EVENT, f"lead-{lead_id}", {"lead_id": lead_id, "event": {"event_id": event_id}}
    )


def test_a_leads_events_go_in_one_message_in_order_where_the_first_stood() -> None:
    owed = [event(1, "a"), event(2, "b"), event(1, "c"), event(1, "d")]
    merged = coalesce_events(owed)
    assert [(o.kind, o.workflow_id) for o in merged] == [
        (LEAD_EVENTS, "lead-1"),
        (LEAD_EVENT, "lead-2"),
    ]
    assert [e["event_id"] for e in merged[0].payload["events"]] == ["a", "c", "d"]
    assert merged[0].payload["lead_id"] == 1


def test_a_lead_owed_one_event_and_other_messages_are_kept_as_they_are() -> None:
    refresh = Owed(REFRESH_LEAD, "lead-3", {"lead_id": 3})
    owed = [event(2, "b"), refresh]
    assert coalesce_events(owed) == owed


def message(id: int, kind: str, payload: dict[str, Any]) -> OutboxMessage:
    return OutboxMessage(id=id, kind=kind, workflow_id="w", payload=payload)


def test_a_records_evaluations_in_a_row_are_one_delivery() -> None:
    meeting = {"object": "meeting", "object_id": 4}
    chain = [message(i, EVALUATE_GUIDED, meeting) for i in (1, 2, 3)]
    assert [[m.id for m in d] for d in deliveries(chain)] == [[1, 2, 3]]


def test_lead_messages_stay_one_delivery_each_in_order_between_evaluations() -> None:
    guided = {"object": "lead", "object_id": 4}
    chain = [
        message(1, LEAD_EVENT, {"lead_id": 4, "event": {"event_id": "a"}}),
        message(2, LEAD_EVENT, {"lead_id": 4, "event": {"event_id": "a"}}),
        message(3, EVALUATE_GUIDED, guided),
        message(4, EVALUATE_GUIDED, guided),
        message(5, REFRESH_LEAD, {"lead_id": 4}),
        message(6, REFRESH_LEAD, {"lead_id": 4}),
        message(7, EVALUATE_GUIDED, guided),
        message(8, EVALUATE_GUIDED, {"object": "lead", "object_id": 5}),
    ]
    assert [[m.id for m in d] for d in deliveries(chain)] == [
        [1],
        [2],
        [3, 4],
        [5],
        [6],
        [7],
        [8],
    ]
