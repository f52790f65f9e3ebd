"""LeadWorkflow: one long-lived workflow per lead (`lead-<id>`).

It serialises everything that changes a lead's stage, writes each transition through an
activity, keeps the lead's search attributes current for operators, and continues-as-new
before its history grows large. A lead in a closed stage completes its workflow; a move out of
a closed stage (update-with-start) runs it again.
"""

import asyncio
from collections import deque

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.activities import LeadEvent
    from domain.leads import (
        LeadSnapshot,
        LeadWorkflowInput,
        MoveCause,
        MoveStageRequest,
        StageChangeInput,
        StageChangeResult,
        event_transition_key,
    )
    from domain.progression import (
        PlannedMove,
        ProgressionConfig,
        ProgressionRuleView,
        replay_in_order,
    )
    from workflows import search_attributes as sa

from workflows.lead_calls import (
    change_lead_stage,
    is_default_pipeline,
    load_lead,
    load_progression,
)
from workflows.lead_chains import signal_chain, start_stage_chain

# Marks the histories that drop an event redelivered while its first copy is being applied;
# older ones applied it a second time.
DROP_EVENT_IN_FLIGHT_PATCH = "drop-event-in-flight"
# Marks the histories where a refused automatic move leaves the lead where it is; older ones
# failed the workflow on it.
REFUSED_MOVE_PATCH = "refused-automatic-move"
# Marks the histories where a lead outside the default pipeline reads its pipeline's default
# flag for events that could move it, so a lead whose pipeline became the default moves (AUT-2).
FRESH_DEFAULT_PATCH = "fresh-default-pipeline"
# Marks the histories that apply a late event in its place in time (moves that arrival order
# would not make); older ones applied it as it came.
EVENTS_IN_TIME_ORDER_PATCH = "events-in-time-order"
# Event ids carried across continue-as-new: enough to drop any redelivery a relay could make.
APPLIED_IDS_KEPT = 1000


@workflow.defn
class LeadWorkflow:
    @workflow.init
    def __init__(self, input: LeadWorkflowInput) -> None:
        self._input = input
        self._snapshot: LeadSnapshot | None = input.snapshot
        self._applied_event_ids: list[str] = list(input.applied_event_ids)
        self._move_seq = 0
        self._is_stale = False
        self._pending: deque[LeadEvent] = deque()
        # The event whose rule, move and chain signal are under way: neither queued nor applied.
        self._applying: str | None = None
        self._chain_id: str | None = input.chain_workflow_id
        # Recent automation events in time order, to apply a late one in its place.
        self._window = input.event_window
        self._last_event: str | None = None
        # Manual moves (updates) and automatic ones (events) take turns on the lead.
        self._stage_lock = asyncio.Lock()

    @workflow.run
    async def run(self, input: LeadWorkflowInput) -> LeadSnapshot:
        if self._snapshot is None:
            self._snapshot = await load_lead(input.lead_id)
            # A new run of a lead (created, reopened): its stage's chain, unless already run.
            await self._enter_stage()
        self._publish()
        while True:
            await workflow.wait_condition(
                lambda: (
                    bool(self._pending)
                    or self._is_stale
                    or self._should_close()
                    or self._should_continue_as_new()
                )
            )
            if self._pending:
                await self._apply_events()
                continue
            if self._is_stale:
                self._is_stale = False
                self._snapshot = await load_lead(input.lead_id)
                self._publish()
                continue
            # Updates may still be running (an update-with-start can reopen a closed lead):
            # decide only once every handler has finished.
            await workflow.wait_condition(workflow.all_handlers_finished)
            if self._pending:
                continue  # an event arrived meanwhile: apply it before closing or handing over
            if self._should_close():
                workflow.logger.info("lead closed; workflow completes")
                return self.snapshot
            if self._should_continue_as_new():
                workflow.continue_as_new(
                    LeadWorkflowInput(
                        lead_id=input.lead_id,
                        snapshot=self._snapshot,
                        applied_event_ids=tuple(self._applied_event_ids[-APPLIED_IDS_KEPT:]),
                        history_limit=input.history_limit,
                        chain_workflow_id=self._chain_id,
                        event_window=self._window,
                    )
                )

    @property
    def snapshot(self) -> LeadSnapshot:
        assert self._snapshot is not None, "lead not loaded yet"
        return self._snapshot

    @workflow.signal
    def activity(self, event: LeadEvent) -> None:
        """A sales activity concerning this lead; applied once per event id, in its place in
        time among the recent ones (domain.progression.replay_in_order)."""
        if event.event_id in self._applied_event_ids or any(
            p.event_id == event.event_id for p in self._pending
        ):
            return
        # A relay and the API can both deliver an event while its first copy is being applied.
        # Asked only then, so histories without such a redelivery carry no marker.
        if event.event_id == self._applying and workflow.patched(DROP_EVENT_IN_FLIGHT_PATCH):
            return
        self._pending.append(event)

    @workflow.signal
    def activities(self, events: list[LeadEvent]) -> None:
        """Several activities for this lead in one signal (a batch), each as `activity`."""
        for event in events:
            self.activity(event)

    @workflow.signal
    def refresh(self) -> None:
        """The lead was edited outside the workflow (owner, type), or configuration it caches
        changed (its pipeline's default flag, a pipeline or stage label): reload it."""
        self._is_stale = True

    @workflow.query
    def current(self) -> LeadSnapshot | None:
        return self._snapshot

    @workflow.update
    async def move_stage(self, request: MoveStageRequest) -> StageChangeResult:
        await workflow.wait_condition(lambda: self._snapshot is not None)
        async with self._stage_lock:
            # The validator may have run before the lead was loaded: check again.
            self.validate_move_stage(request)
            return await self._move_by_hand(request)

    async def _move_by_hand(self, request: MoveStageRequest) -> StageChangeResult:
        self._move_seq += 1
        key = f"{workflow.info().workflow_id}/{workflow.info().run_id}/move/{self._move_seq}"
        try:
            result = await change_lead_stage(
                StageChangeInput(
                    lead_id=self.snapshot.lead_id,
                    to_stage_id=request.stage_id,
                    cause=MoveCause.MANUAL.value,
                    actor_id=request.actor_id,
                    disqualification_reason_id=request.disqualification_reason_id,
                    deal=request.deal,
                    transition_key=key,
                )
            )
        except ActivityError as err:
            # A refused move fails the update, never the workflow; the caller sees the reason.
            if isinstance(err.cause, ApplicationError):
                raise ApplicationError(
                    err.cause.message, *err.cause.details, type=err.cause.type, non_retryable=True
                ) from None
            raise
        await self._adopt(result)
        self._publish()
        return result

    @move_stage.validator
    def validate_move_stage(self, request: MoveStageRequest) -> None:
        if self._snapshot is not None and request.stage_id == self._snapshot.stage_id:
            raise ApplicationError(
                f"lead is already in stage {self._snapshot.stage_label}",
                type="already-in-stage",
            )

    async def _apply_events(self) -> None:
        """Run the pipeline's progression rules on the queued events, one by one as they
        arrived, each in its place in time: an event older than some already applied is
        applied before them, and they are applied again after it.

        The configuration is read once per batch of queued events, after they arrived, so a
        change applies from the next event on (AUT-3, AUT-4, AUT-7, AUT-8).

        Whether the lead's pipeline is the default one (AUT-2) is read then too: the flag in
        the snapshot may predate a switch of the default, and the `refresh` signal that
        reports the switch (services/outbox.py `enqueue_refresh`, one message per lead) can
        arrive after an event. The rules' read carries the flag for a default lead; a lead
        outside the default pipeline reads the flag alone, one index lookup (about 1 ms
        against 7 ms for the rules, measured on the test database), per batch of events that
        could move it. So the decision is exact whatever the order of signals, and the
        signal only has to bring labels and search attributes up to date, eventually.
        """
        async with self._stage_lock:
            config: ProgressionConfig | None = None
            default_checked = False
            before = self.snapshot
            while self._pending:
                event = self._pending.popleft()
                self._applying = event.event_id
                lead = self.snapshot
                moves: tuple[PlannedMove, ...] = ()
                # Notes and opens trigger no rule: no need to read the configuration for them.
                if event.kinds and lead.auto_progression and not lead.is_closed:
                    if (
                        not lead.is_default_pipeline
                        and not default_checked
                        and workflow.patched(FRESH_DEFAULT_PATCH)
                    ):
                        default_checked = True
                        lead = await self._check_default(lead)
                    if lead.is_default_pipeline:
                        if config is None:
                            config = await load_progression(lead.pipeline_id)
                            lead = self._take_default_flag(config)
                        moves = self._moves_for(config, lead, event)
                made: list[str] = []
                refused: tuple[str, str] | None = None
                for move in moves:
                    if self.snapshot.stage_id != move.rule.from_stage_id:
                        break  # moved otherwise meanwhile: the rest of the plan no longer holds
                    reason = await self._move_automatically(
                        move.rule,
                        event,
                        replayed=move.event_id if move.event_id != event.event_id else None,
                    )
                    if reason is not None:
                        refused = (move.rule.name, reason)
                        break
                    made.append(move.rule.name)
                await self._signal_chain("lead_event", event)
                self._applied_event_ids.append(event.event_id)
                self._applying = None
                outcome = f"moved by {', '.join(made)}" if made else "no stage change"
                if refused is not None:
                    outcome += f"; {refused[0]} did not move the lead: {refused[1]}"
                self._last_event = (
                    f"Last event: {event.type} `{event.event_id}` "
                    f"({event.occurred_at.isoformat()}): {outcome}."
                )
            # Upsert search attributes only when the lead changed; details always show the event.
            self._publish(upsert=self.snapshot != before)

    async def _check_default(self, lead: LeadSnapshot) -> LeadSnapshot:
        """The lead, made a default-pipeline lead if its pipeline has become the default."""
        if await is_default_pipeline(lead.pipeline_id):
            lead = lead.model_copy(update={"is_default_pipeline": True})
            self._snapshot = lead
        return lead

    def _take_default_flag(self, config: ProgressionConfig) -> LeadSnapshot:
        """The lead with its pipeline's default flag as the configuration just read has it.

        Configurations recorded before the flag was part of them carry None: the snapshot's
        flag stands, so those histories replay as they ran.
        """
        lead = self.snapshot
        if config.is_default is not None and config.is_default != lead.is_default_pipeline:
            lead = lead.model_copy(update={"is_default_pipeline": config.is_default})
            self._snapshot = lead
        return lead

    def _moves_for(
        self, config: ProgressionConfig, lead: LeadSnapshot, event: LeadEvent
    ) -> tuple[PlannedMove, ...]:
        """The automatic moves this event makes, placed in time among the recent events."""
        replay = replay_in_order(config, lead, self._window, event)
        # Asked only when the place changes the moves, so other histories carry no marker.
        if replay.moves != replay.arrival_moves and not workflow.patched(
            EVENTS_IN_TIME_ORDER_PATCH
        ):
            # Applied as it came: the window no longer says how the lead got here.
            self._window = replay.window.model_copy(update={"events": (), "stage_id": None})
            return replay.arrival_moves
        self._window = replay.window
        return replay.moves

    async def _adopt(self, result: StageChangeResult) -> None:
        """Take the lead as a transition left it; a new stage entry stops the old chain."""
        entered = result.moved and result.snapshot.stage_id != self.snapshot.stage_id
        self._snapshot = result.snapshot
        if entered:
            await self._signal_chain("stop")
            self._chain_id = None
            await self._enter_stage()

    async def _enter_stage(self) -> None:
        if (child_id := await start_stage_chain(self.snapshot)) is not None:
            self._chain_id = child_id

    async def _signal_chain(self, name: str, arg: LeadEvent | None = None) -> None:
        if self._chain_id is not None and not await signal_chain(self._chain_id, name, arg):
            self._chain_id = None

    async def _move_automatically(
        self, rule: ProgressionRuleView, event: LeadEvent, *, replayed: str | None = None
    ) -> str | None:
        """Move the lead by `rule` on `event`, or on the later event `replayed`, applied again
        after the late `event` (its move gets its own key: its first application may have
        written one). Returns why the transition refused the move, if it did.

        A refusal (the target stage was deleted, the settings now want a deal or a reason)
        leaves the lead where it is and the next events apply as usual: one rule that cannot
        apply must not stop the lead's workflow.
        """
        lead = self.snapshot
        event_id = replayed or event.event_id
        after = event.event_id if replayed is not None else None
        key = event_transition_key(workflow.info().workflow_id, event_id, after)
        try:
            result = await change_lead_stage(
                StageChangeInput(
                    lead_id=lead.lead_id,
                    to_stage_id=rule.to_stage_id or lead.stage_id,
                    cause=MoveCause.automation(rule.name),
                    event_id=event_id,
                    transition_key=key,
                    expected_from_stage_id=lead.stage_id,
                )
            )
        except ActivityError as err:
            # Only business refusals end the activity (DB_RETRY retries everything else).
            if not isinstance(err.cause, ApplicationError) or not workflow.patched(
                REFUSED_MOVE_PATCH
            ):
                raise
            workflow.logger.warning(
                "automatic move by %s on event %s refused: %s",
                rule.name,
                event_id,
                err.cause.message,
            )
            return err.cause.message
        await self._adopt(result)
        if result.moved:
            workflow.logger.info("lead moved by %s on event %s", rule.name, event_id)
        return None

    def _should_close(self) -> bool:
        return self._snapshot is not None and self._snapshot.is_closed

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._input.history_limit
        )

    def _publish(self, *, upsert: bool = True) -> None:
        """Show the lead's state to operators: search attributes and the UI's details pane."""
        s = self.snapshot
        if upsert:
            workflow.upsert_search_attributes(sa.lead_updates(s))
        workflow.set_current_details(
            f"**{s.name}** is in *{s.stage_label}* ({s.stage_kind}) of {s.pipeline_label}. "
            f"Owner: {s.owner_id or 'unassigned'}. "
            f"Automatic progression: {'on' if s.auto_progression else 'off'}."
            + (f"\n\n{self._last_event}" if self._last_event else "")
        )
