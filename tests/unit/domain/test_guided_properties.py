"""Properties every guided-action rule keeps, over generated snapshots: `wake_at` lies ahead,
nothing changes before it, the verdict does change at it, and with no `wake_at` time alone
changes nothing (the engine's timers rely on all three)."""

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.guided import (
    TYPES,
    CallSnapshot,
    ContactSnapshot,
    DealSnapshot,
    GuidedType,
    LeadSnapshot,
    MeetingSnapshot,
    ObjectKind,
    Snapshot,
    TaskSnapshot,
    evaluate,
)
from tests.unit.domain.fixtures_guided import NOW

TICK = timedelta(microseconds=1)
FAR = timedelta(days=400)

offsets = st.timedeltas(min_value=-timedelta(days=40), max_value=timedelta(days=40))
instants = offsets.map(lambda d: NOW + d)
maybe_instants = st.none() | instants
# What the records say happened (an email, a reply, an activity) lies at or before the
# evaluation: a fact from after it would be a change after the item's creation.
past = offsets.map(lambda d: NOW - abs(d))
maybe_past = st.none() | past
owners = st.none() | st.sampled_from([7, 9])
domains = st.none() | st.sampled_from(["buyer.example", "leadpipe.example"])


@st.composite
def meetings(draw: st.DrawFn) -> MeetingSnapshot:
    start = draw(instants)
    return MeetingSnapshot(
        meeting_id=1,
        owner_id=draw(owners),
        start_at=start,
        end_at=start + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=3))),
        kind=draw(st.sampled_from(["meeting", "busy"])),
        outcome=draw(st.sampled_from([None, "scheduled", "completed", "canceled"])),
        follow_up_tasks=draw(st.integers(0, 2)),
        open_follow_up_tasks=draw(st.integers(0, 2)),
    )


SNAPSHOTS: dict[ObjectKind, st.SearchStrategy[Snapshot]] = {
    ObjectKind.CONTACT: st.builds(
        ContactSnapshot,
        contact_id=st.just(1),
        owner_id=owners,
        lifecycle_stage=st.sampled_from([None, "lead", "customer"]),
        email_domain=domains,
        owner_email_domain=domains,
        has_deal=st.booleans(),
        has_open_lead=st.booleans(),
        latest_lead_disqualified_at=maybe_past,
        is_target_account=st.booleans(),
        last_email_sent_at=maybe_past,
        last_owner_email_sent_at=maybe_past,
        last_reply_at=maybe_past,
        last_reply_to_owner_at=maybe_past,
        last_engaged_at=maybe_past,
        last_reply_user_id=owners,
        reply_user_last_email_sent_at=maybe_past,
        open_deal_owner_ids=st.frozensets(st.sampled_from([7, 9])),
    ),
    ObjectKind.LEAD: st.builds(
        LeadSnapshot,
        lead_id=st.just(1),
        owner_id=owners,
        stage_kind=st.sampled_from(["open", "qualified", "disqualified"]),
        is_first_stage=st.booleans(),
        email_domain=domains,
        owner_email_domain=domains,
        last_owner_activity_at=maybe_past,
        last_owner_email_sent_at=maybe_past,
        last_reply_to_owner_at=maybe_past,
        last_engaged_at=maybe_past,
    ),
    ObjectKind.MEETING: meetings(),
    ObjectKind.CALL: st.builds(
        CallSnapshot,
        call_id=st.just(1),
        owner_id=owners,
        started_at=instants,
        status=st.sampled_from([None, "", "completed", "busy"]),
        outcome=st.sampled_from([None, "", "connected"]),
        via_platform=st.booleans(),
    ),
    ObjectKind.TASK: st.builds(
        TaskSnapshot,
        task_id=st.just(1),
        owner_id=owners,
        status=st.sampled_from(["open", "completed"]),
        priority=st.sampled_from(["high", "low"]),
        due_at=maybe_instants,
        sequence_id=st.none() | st.just(3),
        owner_time_zone=st.sampled_from(["UTC", "Europe/Helsinki", "America/New_York"]),
    ),
    ObjectKind.DEAL: st.builds(
        DealSnapshot,
        deal_id=st.just(1),
        owner_id=owners,
        created_at=past,
        stage_kind=st.sampled_from(["open", "won"]),
        stage_entered_at=past,
        is_first_stage=st.booleans(),
        contact_id=st.none() | st.just(5),
        last_engagement_end_at=maybe_instants,
        next_steps_changed_at=maybe_past,
        contact_last_open_at=maybe_past,
        contact_last_reply_at=maybe_past,
    ),
}


@st.composite
def cases(draw: st.DrawFn) -> tuple[GuidedType, Snapshot, datetime | None]:
    guided_type = draw(st.sampled_from(list(GuidedType)))
    snapshot = draw(SNAPSHOTS[TYPES[guided_type].object])
    item_created_at = draw(st.none() | offsets.map(lambda d: NOW - abs(d)))
    return guided_type, snapshot, item_created_at


@settings(max_examples=600, deadline=None)
@given(cases())
def test_wake_at_is_ahead_and_the_verdict_changes_there_and_only_there(
    case: tuple[GuidedType, Snapshot, datetime | None],
) -> None:
    guided_type, snapshot, item_created_at = case
    v = evaluate(guided_type, snapshot, NOW, item_created_at)
    if v.holds and item_created_at is None:
        item_created_at = NOW  # the engine creates the item now; later looks pass it
    if v.wake_at is None:
        later = evaluate(guided_type, snapshot, NOW + FAR, item_created_at)
        assert later.holds == v.holds
        return
    assert v.wake_at > NOW
    before = evaluate(guided_type, snapshot, v.wake_at - TICK, item_created_at)
    at = evaluate(guided_type, snapshot, v.wake_at, item_created_at)
    assert before.holds == v.holds
    assert at.holds != v.holds


@settings(max_examples=300, deadline=None)
@given(cases())
def test_a_holding_verdict_names_its_user_and_an_expiry_ahead(
    case: tuple[GuidedType, Snapshot, datetime | None],
) -> None:
    guided_type, snapshot, item_created_at = case
    v = evaluate(guided_type, snapshot, NOW, item_created_at)
    if v.holds:
        assert v.user_id is not None
        assert v.expires_at is None or v.expires_at > NOW
    else:
        assert v.expires_at is None
