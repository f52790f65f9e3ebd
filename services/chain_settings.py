"""A stage chain's workflow-level settings (ACT-7) and the enrollment of stage entries in it.

Settings are versioned with the actions: a settings change saves a new chain version with the
same actions, an action edit carries the settings over, and a run keeps the version, settings
included, that it enrolled with.

Enrollment happens once per stage entry, in one transaction that holds the lead's row lock:
it reads the chain in force, the lead's earlier runs of the chain, and, when the settings let
the entry in, reserves its run (`pending`, one per entry by a unique index). So two entries of
one lead, however close, never both see "no earlier run", and a retried enrollment finds the
run it reserved instead of deciding again.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ChainRun, ChainVersion, Lead, User
from db.repositories import chains as chains_repo
from db.repositories import records
from domain import chains
from domain.chain_execution import ChainEnrollment, chain_workflow_id
from domain.chains.settings import (
    ChainSettings,
    ReEnrollment,
    chain_workflow_name,
    dump_settings,
    enrollment_refusal,
    parse_settings,
)
from domain.errors import NotFound
from domain.roles import ADMINS
from services.auth import require_role
from services.chain_runs import RunStatus
from services.chains import _stage


@dataclass(frozen=True)
class ChainSettingsView:
    pipeline_id: int
    stage_id: int
    workflow_id: str
    version: int
    settings: ChainSettings
    # The name shown: the settings' own, else the stage's label.
    name: str
    created_at: datetime | None
    created_by_id: int | None


def settings_of(row: ChainVersion | None) -> ChainSettings:
    """The settings a saved version carries; the defaults for none or for older versions."""
    if row is None or not row.settings:
        return ChainSettings()
    return parse_settings(row.settings)


def _view(
    pipeline_id: int, stage_id: int, label: str, row: ChainVersion | None
) -> ChainSettingsView:
    settings = settings_of(row)
    return ChainSettingsView(
        pipeline_id=pipeline_id,
        stage_id=stage_id,
        workflow_id=chain_workflow_name(stage_id),
        version=row.version if row else 0,
        settings=settings,
        name=settings.name or label,
        created_at=row.created_at if row else None,
        created_by_id=row.created_by_id if row else None,
    )


async def get_settings(
    session: AsyncSession, reader: User, pipeline_id: int, stage_id: int
) -> ChainSettingsView:
    """The settings of the chain in force. Raises NotFound (pipeline or stage)."""
    async with session.begin():
        stage = await _stage(session, pipeline_id, stage_id)
        row = await chains_repo.latest_version(session, stage_id)
        return _view(pipeline_id, stage_id, stage.label, row)


def _merged(current: ChainSettings, changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = {**dump_settings(current), **changes}
    # Leaving once_per_days drops its spacing unless the change gives one (then it is refused).
    leaves_spacing = (
        "re_enrollment" in changes
        and changes["re_enrollment"] != ReEnrollment.ONCE_PER_DAYS
        and "days" not in changes
    )
    if leaves_spacing:
        merged.pop("days", None)
    # null clears a setting: its default applies.
    return {k: v for k, v in merged.items() if v is not None}


async def patch_settings(
    session: AsyncSession,
    actor: User,
    pipeline_id: int,
    stage_id: int,
    changes: Mapping[str, Any],
) -> ChainSettingsView:
    """Change some settings (JSON form; null clears one): a new chain version with the same
    actions, unless nothing changed. Runs already going keep theirs.

    Raises Forbidden (PERM-2), NotFound, InvalidInput naming each broken field.
    """
    require_role(actor, ADMINS, "editing stage chain settings")
    async with session.begin():
        # The stage row lock orders this with action edits: each sees the version before it.
        stage = await _stage(session, pipeline_id, stage_id, for_update=True)
        row = await chains_repo.latest_version(session, stage_id)
        current = settings_of(row)
        wanted = parse_settings(_merged(current, changes))
        if wanted != current:
            row = await chains_repo.add_version(
                session,
                ChainVersion(
                    pipeline_id=pipeline_id,
                    stage_id=stage_id,
                    version=(row.version if row else 0) + 1,
                    actions=row.actions if row else [],
                    settings=dump_settings(wanted),
                    created_by_id=actor.id,
                ),
            )
        return _view(pipeline_id, stage_id, stage.label, row)


def _enrollment(row: ChainVersion, **fields: Any) -> ChainEnrollment:
    # Workflow inputs are visible to anyone with Temporal access: secrets stay here.
    actions = chains.redact_secrets(chains.parse_actions(row.actions))
    return ChainEnrollment(
        version=row.version, actions=actions, settings=settings_of(row), **fields
    )


async def enroll(
    session: AsyncSession,
    lead_id: int,
    stage_id: int,
    stage_entry_id: int,
    *,
    now: datetime | None = None,
) -> ChainEnrollment:
    """Decide whether this stage entry of the lead runs the stage's chain and, if so, reserve
    its run (ACT-1, ACT-7). Idempotent per entry: a repeat answers the first decision's run.
    Raises NotFound for an unknown lead."""
    at = now or datetime.now(UTC)
    async with session.begin():
        # Serialises the lead's enrollments (see the module docstring).
        if await records.get(session, Lead, lead_id, for_update=True) is None:
            raise NotFound(f"lead {lead_id} does not exist")
        runs = await chains_repo.lead_runs_of_stage(session, lead_id, stage_id)
        mine = next((r for r in runs if r.stage_entry_id == stage_entry_id), None)
        if mine is not None:
            pinned = await chains_repo.get_version(session, stage_id, mine.version)
            if pinned is not None:
                return _enrollment(pinned, workflow_id=mine.workflow_id)
        row = await chains_repo.latest_version(session, stage_id)
        if row is None or not row.actions:
            return ChainEnrollment(version=row.version if row else 0, actions=[])
        refusal = enrollment_refusal(settings_of(row), [r.started_at for r in runs], at)
        if refusal is not None:
            return _enrollment(row, refusal=refusal)
        workflow_id = chain_workflow_id(lead_id, stage_entry_id, row.version)
        await chains_repo.add_run(
            session,
            ChainRun(
                workflow_id=workflow_id,
                lead_id=lead_id,
                pipeline_id=row.pipeline_id,
                stage_id=stage_id,
                version=row.version,
                stage_entry_id=stage_entry_id,
                status=RunStatus.PENDING.value,
                started_at=at,
            ),
        )
        return _enrollment(row, workflow_id=workflow_id)
