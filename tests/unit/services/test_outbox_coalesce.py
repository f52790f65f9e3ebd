"""A batch owes each lead one signal carrying its events in order (services/outbox.py)."""

from services.outbox import LEAD_EVENT, LEAD_EVENTS, REFRESH_LEAD, Owed, coalesce_events


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
