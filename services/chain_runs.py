"""Execution records of stage chains: runs and their steps, written by the chain workflow's
activities and read by `GET /v1/leads/{id}/chains`. Every write is idempotent, so a retried
activity leaves the same rows."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ChainRun, ChainStep, Lead, User
from db.repositories import chains as chains_repo
from db.repositories import records
from db.transactions import transaction
from domain.chains import mask_urls_in
from domain.errors import NotFound
from domain.roles import ADMINS, Role
from services.pagination import Page, PageRequest, encode_cursor


class RunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"


FINAL_RUN = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.STOPPED})
FINAL_STEP = frozenset({StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.SKIPPED})


@dataclass(frozen=True)
class StepView:
    action_id: str
    seq: int
    type: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    result: dict[str, Any] | None
    error: str | None


@dataclass(frozen=True)
class RunWithSteps:
    run: ChainRun
    steps: list[StepView]


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_urls_in(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _step_view(step: ChainStep, *, mask: bool) -> StepView:
    """The step as `reader` may see it: URL credentials masked unless an admin reads."""
    return StepView(
        action_id=step.action_id,
        seq=step.seq,
        type=step.type,
        status=step.status,
        started_at=step.started_at,
        ended_at=step.ended_at,
        result=_masked(step.result) if mask else step.result,
        error=mask_urls_in(step.error) if mask and step.error else step.error,
    )


async def start_run(
    session: AsyncSession,
    workflow_id: str,
    lead_id: int,
    pipeline_id: int,
    stage_id: int,
    version: int,
    *,
    now: datetime | None = None,
) -> None:
    """Record that a chain run started (status `running`); a run its enrollment reserved
    (`pending`) becomes `running`; a repeat changes nothing. One statement, in the caller's
    transaction if it began one."""
    async with transaction(session):
        await chains_repo.put_run(
            session,
            ChainRun(
                workflow_id=workflow_id,
                lead_id=lead_id,
                pipeline_id=pipeline_id,
                stage_id=stage_id,
                version=version,
                status=RunStatus.RUNNING.value,
                started_at=now or datetime.now(UTC),
            ),
            reserved=RunStatus.PENDING.value,
        )


async def record_step(
    session: AsyncSession,
    run_workflow_id: str,
    action_id: str,
    seq: int,
    type: str,
    status: StepStatus | str,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    *,
    now: datetime | None = None,
) -> None:
    """Create or move the step (`run`, `action_id`, `seq`) to `status`, in the caller's
    transaction if it began one (db/transactions.py), else in its own.

    A step in a final status (completed, failed, skipped) stays as it is, so a retried
    activity that records `running` after `completed` changes nothing. Raises NotFound when
    the run was never started.
    """
    status = StepStatus(status)
    at = now or datetime.now(UTC)
    async with transaction(session):
        written = await chains_repo.put_step(
            session,
            run_workflow_id,
            action_id,
            seq,
            type,
            status.value,
            at=at,
            ended_at=at if status in FINAL_STEP else None,
            result=result,
            error=error,
            final=[s.value for s in FINAL_STEP],
        )
        # Nothing written: a final step, or no run at all.
        if not written and await chains_repo.get_run(session, run_workflow_id) is None:
            raise NotFound(f"chain run {run_workflow_id} was not started")


async def finish_run(
    session: AsyncSession,
    workflow_id: str,
    status: RunStatus | str,
    *,
    now: datetime | None = None,
) -> None:
    """Close a run as completed, failed or stopped; a run already closed keeps its first end.
    One statement, in the caller's transaction if it began one. Raises NotFound when the run
    was never started."""
    status = RunStatus(status)
    at = (now or datetime.now(UTC)) if status in FINAL_RUN else None
    async with transaction(session):
        written = await chains_repo.end_run(
            session, workflow_id, status.value, at, final=[s.value for s in FINAL_RUN]
        )
        if not written and await chains_repo.get_run(session, workflow_id) is None:
            raise NotFound(f"chain run {workflow_id} was not started")


async def list_runs(
    session: AsyncSession, reader: User, lead_id: int, page: PageRequest
) -> Page[RunWithSteps]:
    """A lead's chain runs, oldest first, each with its steps in the order they started;
    credentials in URLs of step results and errors are masked for non-admins. Raises NotFound
    for an unknown lead."""
    mask = Role(reader.role) not in ADMINS
    async with session.begin():
        if await records.get(session, Lead, lead_id) is None:
            raise NotFound(f"lead {lead_id} does not exist")
        rows = await chains_repo.runs_for_lead(
            session, lead_id, after_id=page.after_id, limit=page.limit + 1
        )
        runs = rows[: page.limit]
        steps: dict[int, list[StepView]] = defaultdict(list)
        for step in await chains_repo.steps_for_runs(session, [r.id for r in runs]):
            steps[step.run_id].append(_step_view(step, mask=mask))
    more = len(rows) > page.limit and runs
    return Page(
        [RunWithSteps(r, steps[r.id]) for r in runs],
        encode_cursor(runs[-1].id) if more else None,
    )
