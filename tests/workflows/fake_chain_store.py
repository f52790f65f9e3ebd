"""Chain activities under their real names, in memory, for time-skipping workflow tests."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.chain_execution import (
    ActionEffect,
    ChainContextRequest,
    ChainEnrollment,
    ChainEnrollmentRequest,
    ChainInForce,
    ChainLookup,
    ChainRunEnd,
    ChainRunStart,
    ChainStepRecord,
    chain_workflow_id,
)
from domain.chains import Action, ChainContext, assign_ids, parse_actions
from domain.chains.settings import ChainSettings, enrollment_refusal


def actions(*raw: dict[str, Any]) -> list[Action]:
    """Parse raw actions as the API would store them, with ids."""
    return parse_actions(assign_ids(list(raw)))


@dataclass
class FakeChainStore:
    # stage id -> chain versions, the last in force
    chains: dict[int, list[list[Action]]] = field(default_factory=dict)
    context: ChainContext = field(default_factory=lambda: ChainContext(lead={"label": "hot"}))
    runs: dict[str, str] = field(default_factory=dict)  # workflow id -> status
    steps: list[ChainStepRecord] = field(default_factory=list)
    effects: dict[str, list[str]] = field(default_factory=dict)  # key -> action types (each call)
    # action id -> failures to raise before succeeding; negative = fail for good (non-retryable)
    failures: dict[str, int] = field(default_factory=dict)
    # action id -> calls of perform_chain_action, retries included
    attempts: dict[str, int] = field(default_factory=dict)
    # Awaited by each effect before it does anything: holds the action open.
    before_effect: Callable[[ActionEffect], Awaitable[None]] | None = None
    # Awaited by each step record before it is kept: holds the record open.
    before_step: Callable[[ChainStepRecord], Awaitable[None]] | None = None
    # Action ids whose effect finds the lead gone from the stage, as the real effect reports it.
    left_stage: set[str] = field(default_factory=set)
    # Every call of perform_chain_action, retries included.
    calls: list[ActionEffect] = field(default_factory=list)
    # stage id -> the settings of the version in force (defaults if absent)
    settings: dict[int, ChainSettings] = field(default_factory=dict)
    # (lead id, stage id) -> the runs enrollment reserved: (stage entry, workflow id, when)
    enrolled: dict[tuple[int, int], list[tuple[int, str, datetime]]] = field(default_factory=dict)
    # action id -> the server's (so skipped) time when its effect first ran, read from `clock`
    effect_times: dict[str, datetime] = field(default_factory=dict)
    clock: Callable[[], Awaitable[datetime]] | None = None

    def performed(self) -> list[str]:
        """Effect keys in the order they first happened."""
        return list(self.effects)

    def activities(self) -> list[Callable[..., Any]]:
        @activity.defn(name="chain_in_force")
        async def chain_in_force(input: ChainLookup) -> ChainInForce:
            versions = self.chains.get(input.stage_id, [])
            return ChainInForce(version=len(versions), actions=versions[-1] if versions else [])

        @activity.defn(name="enroll_in_chain")
        async def enroll_in_chain(input: ChainEnrollmentRequest) -> ChainEnrollment:
            versions = self.chains.get(input.stage_id, [])
            settings = self.settings.get(input.stage_id, ChainSettings())
            chain = ChainEnrollment(
                version=len(versions),
                actions=versions[-1] if versions else [],
                settings=settings,
            )
            runs = self.enrolled.setdefault((input.lead_id, input.stage_id), [])
            for entry, workflow_id, _ in runs:
                if entry == input.stage_entry_id:
                    return chain.model_copy(update={"workflow_id": workflow_id})
            if not chain.actions:
                return chain
            now = datetime.now(UTC)
            refusal = enrollment_refusal(settings, [at for _, _, at in runs], now)
            if refusal is not None:
                return chain.model_copy(update={"refusal": refusal})
            workflow_id = chain_workflow_id(input.lead_id, input.stage_entry_id, chain.version)
            runs.append((input.stage_entry_id, workflow_id, now))
            return chain.model_copy(update={"workflow_id": workflow_id})

        @activity.defn(name="load_chain_context")
        async def load_chain_context(input: ChainContextRequest) -> ChainContext:
            return self.context

        @activity.defn(name="start_chain_run")
        async def start_chain_run(input: ChainRunStart) -> None:
            self.runs.setdefault(input.workflow_id, "running")

        @activity.defn(name="record_chain_step")
        async def record_chain_step(input: ChainStepRecord) -> None:
            if self.before_step is not None:
                await self.before_step(input)
            self.steps.append(input)

        @activity.defn(name="finish_chain_run")
        async def finish_chain_run(input: ChainRunEnd) -> None:
            self.runs[input.workflow_id] = input.status

        @activity.defn(name="perform_chain_action")
        async def perform_chain_action(input: ActionEffect) -> dict[str, Any]:
            self.attempts[input.action.id] = self.attempts.get(input.action.id, 0) + 1
            if self.clock is not None and input.action.id not in self.effect_times:
                self.effect_times[input.action.id] = await self.clock()
            self.calls.append(input)
            if self.before_effect is not None:
                await self.before_effect(input)
            left = self.failures.get(input.action.id, 0)
            if left < 0:
                raise ApplicationError(
                    "the deal pipeline is gone", type="not-found", non_retryable=True
                )
            if left > 0:
                self.failures[input.action.id] = left - 1
                raise RuntimeError("database briefly unavailable")
            if input.action.id in self.left_stage:
                return {"skipped": "the lead left the stage", "left_stage": True}
            self.effects.setdefault(input.key, []).append(input.action.type)
            return {"done": input.action.type}

        return [
            chain_in_force,
            enroll_in_chain,
            load_chain_context,
            start_chain_run,
            record_chain_step,
            finish_chain_run,
            perform_chain_action,
        ]
