"""Stage action chains (ACT-*): read the chain in force, edit it (every edit is a new immutable
version), comment on actions, dry-run it for a lead.

Comments live in `chain_comments` by action id rather than in the versioned tree, so adding one
makes no version and every later version still shows it while the action exists.
"""

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ChainComment, ChainVersion, Pipeline, Stage, User
from db.repositories import chains as chains_repo
from db.repositories import records
from db.transactions import transaction
from domain import chains
from domain.addresses import NO_EXCEPTIONS, AllowList
from domain.chains import Action, Branch, Chain, Comment, DeleteMode, PlannedStep
from domain.errors import InvalidInput, NotFound, invalid
from domain.roles import ADMINS, Role
from domain.stages import PipelineObject
from services import chain_references
from services.auth import require_role
from services.chain_context import build_context


@dataclass(frozen=True)
class ChainView:
    pipeline_id: int
    stage_id: int
    version: int
    actions: list[Action]
    created_at: datetime | None
    created_by_id: int | None
    # The action an insert or patch touched, so a client learns a new action's id.
    action_id: str | None = None


@dataclass(frozen=True)
class DryRun:
    pipeline_id: int
    stage_id: int
    lead_id: int
    version: int
    at: datetime
    steps: list[PlannedStep]


async def _stage(
    session: AsyncSession, pipeline_id: int, stage_id: int, *, for_update: bool = False
) -> Stage:
    """The stage in use of a lead pipeline. Raises NotFound for any mismatch."""
    pipeline = await records.get(session, Pipeline, pipeline_id)
    if pipeline is None or pipeline.object != PipelineObject.LEAD:
        raise NotFound(f"lead pipeline {pipeline_id} does not exist")
    stage = await records.get(session, Stage, stage_id, for_update=for_update)
    if stage is None or stage.pipeline_id != pipeline_id or stage.removed_at is not None:
        raise NotFound(f"stage {stage_id} is not a stage of pipeline {pipeline_id}")
    return stage


async def chain_in_force(session: AsyncSession, stage_id: int) -> Chain:
    """The stage's latest version (version 0, no actions, when none was saved); what a run
    entering the stage pins. No comments. Reads in the caller's session."""
    row = await chains_repo.latest_version(session, stage_id)
    if row is None:
        return Chain(version=0, actions=[])
    return Chain(version=row.version, actions=chains.parse_actions(row.actions))


async def chain_version(session: AsyncSession, stage_id: int, version: int) -> Chain:
    """One saved version, as a run pinned to it reads it. Raises NotFound."""
    if version == 0:
        return Chain(version=0, actions=[])
    row = await chains_repo.get_version(session, stage_id, version)
    if row is None:
        raise NotFound(f"stage {stage_id} has no chain version {version}")
    return Chain(version=row.version, actions=chains.parse_actions(row.actions))


async def action_of_run(session: AsyncSession, run_workflow_id: str, action_id: str) -> Action:
    """An action as stored in the version a chain run is pinned to, secrets and all: workflow
    payloads carry actions with secrets hidden (`redact_secrets`), so effects read them here.
    Raises NotFound (run never started, or no such action in its version). In the caller's
    transaction if it began one."""
    async with transaction(session):
        run = await chains_repo.get_run(session, run_workflow_id)
        if run is None:
            raise NotFound(f"chain run {run_workflow_id} was not started")
        chain = await chain_version(session, run.stage_id, run.version)
    return chains.find_action(chain.actions, action_id)


async def _comments(session: AsyncSession, stage_id: int) -> dict[str, list[Comment]]:
    by_action: dict[str, list[Comment]] = defaultdict(list)
    for c in await chains_repo.comments(session, stage_id):
        by_action[c.action_id].append(
            Comment(id=c.id, author_id=c.author_id, text=c.text, at=c.created_at)
        )
    return by_action


def _visible(actions: list[Action], reader: User) -> list[Action]:
    return actions if Role(reader.role) in ADMINS else chains.redact_secrets(actions)


async def _view(
    session: AsyncSession,
    reader: User,
    pipeline_id: int,
    stage_id: int,
    row: ChainVersion | None,
    action_id: str | None = None,
) -> ChainView:
    actions = chains.parse_actions(row.actions) if row is not None else []
    actions = chains.with_comments(actions, await _comments(session, stage_id))
    return ChainView(
        pipeline_id=pipeline_id,
        stage_id=stage_id,
        version=row.version if row else 0,
        actions=_visible(actions, reader),
        created_at=row.created_at if row else None,
        created_by_id=row.created_by_id if row else None,
        action_id=action_id,
    )


async def get_chain(
    session: AsyncSession, reader: User, pipeline_id: int, stage_id: int
) -> ChainView:
    """The chain in force with its comments; webhook secrets are hidden from non-admins.
    Raises NotFound (pipeline or stage)."""
    async with session.begin():
        await _stage(session, pipeline_id, stage_id)
        row = await chains_repo.latest_version(session, stage_id)
        return await _view(session, reader, pipeline_id, stage_id, row)


async def _edit(
    session: AsyncSession,
    actor: User,
    pipeline_id: int,
    stage_id: int,
    change: Callable[[list[Action]], tuple[list[Action], str | None]],
    webhook_targets: AllowList = NO_EXCEPTIONS,
) -> ChainView:
    """Apply `change` to the chain in force and save the result as the next version.
    Raises InvalidInput when a new or changed webhook URL has a non-public host, or a new or
    changed action names a record that does not exist."""
    require_role(actor, ADMINS, "editing stage chains")  # PERM-2
    async with session.begin():
        # The stage row lock orders concurrent edits: each sees the version before it.
        await _stage(session, pipeline_id, stage_id, for_update=True)
        current = await chain_in_force(session, stage_id)
        # Settings are versioned with the actions (ACT-7): an action edit keeps them.
        in_force = await chains_repo.latest_version(session, stage_id)
        actions, action_id = change(current.actions)
        errors = chains.webhook_target_errors(actions, webhook_targets, current.actions)
        errors += await chain_references.reference_errors(session, actions, current.actions)
        if errors:
            raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
        row = await chains_repo.add_version(
            session,
            ChainVersion(
                pipeline_id=pipeline_id,
                stage_id=stage_id,
                version=current.version + 1,
                actions=chains.dump_actions(actions),
                settings=in_force.settings if in_force else None,
                created_by_id=actor.id,
            ),
        )
        return await _view(session, actor, pipeline_id, stage_id, row, action_id)


async def put_chain(
    session: AsyncSession,
    actor: User,
    pipeline_id: int,
    stage_id: int,
    raw_actions: Any,
    *,
    webhook_targets: AllowList = NO_EXCEPTIONS,
) -> ChainView:
    """Replace the chain (a new version). Actions keep the ids they come with, so a GET edited
    and PUT back keeps ids and comments; a masked webhook secret keeps the stored one. Webhook
    hosts must be public or in `webhook_targets`.

    Raises Forbidden (PERM-2), NotFound, InvalidInput listing each broken field's path.
    """

    def replace(current: list[Action]) -> tuple[list[Action], str | None]:
        raw = chains.assign_ids(raw_actions)
        parsed = chains.parse_actions(raw)
        return _keep_secrets(parsed, current), None

    return await _edit(session, actor, pipeline_id, stage_id, replace, webhook_targets)


def _keep_secrets(actions: list[Action], previous: Sequence[Action]) -> list[Action]:
    secrets_by_id = {
        a.id: a.config.secret
        for _, _, a in chains.walk(previous)
        if isinstance(a, chains.WebhookAction)
    }
    raw = chains.dump_actions(actions)
    changed = False
    for item in _raw_items(raw):
        config = item["config"]
        if item["type"] == "webhook" and config.get("secret") == chains.REDACTED:
            stored = secrets_by_id.get(item["id"])
            if stored is None:
                config.pop("secret")
            else:
                config["secret"] = stored
            changed = True
    return chains.parse_actions(raw) if changed else actions


def _raw_items(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for item in raw:
        out.append(item)
        if item["type"] == "branch":
            for key in ("then", "else"):
                out += _raw_items(item["config"].get(key) or [])
    return out


async def insert_action(
    session: AsyncSession,
    actor: User,
    pipeline_id: int,
    stage_id: int,
    action: Mapping[str, Any],
    *,
    position: int | None = None,
    parent_action_id: str | None = None,
    branch: Branch = "then",
    webhook_targets: AllowList = NO_EXCEPTIONS,
) -> ChainView:
    """Insert an action (ACT-3) at `position` (the end if None), in the top-level list or in a
    branch's `then`/`else` path; the view's `action_id` is the new action's. Raises Forbidden,
    NotFound (stage, parent), InvalidInput (with the path of the broken field)."""

    def insert(current: list[Action]) -> tuple[list[Action], str | None]:
        return chains.insert_action(current, action, position, parent_action_id, branch)

    return await _edit(session, actor, pipeline_id, stage_id, insert, webhook_targets)


async def patch_action(
    session: AsyncSession,
    actor: User,
    pipeline_id: int,
    stage_id: int,
    action_id: str,
    config: Mapping[str, Any],
    *,
    webhook_targets: AllowList = NO_EXCEPTIONS,
) -> ChainView:
    """Change an action's config keys (ACT-4); running chains keep their version. Raises
    Forbidden, NotFound, InvalidInput."""

    def patch(current: list[Action]) -> tuple[list[Action], str | None]:
        return _keep_secrets(chains.patch_action(current, action_id, config), current), action_id

    return await _edit(session, actor, pipeline_id, stage_id, patch, webhook_targets)


async def delete_action(
    session: AsyncSession,
    actor: User,
    pipeline_id: int,
    stage_id: int,
    action_id: str,
    mode: DeleteMode,
) -> ChainView:
    """Delete an action alone or with all that follow it in its list (ACT-6). Raises
    Forbidden, NotFound."""

    def delete(current: list[Action]) -> tuple[list[Action], str | None]:
        return chains.delete_action(current, action_id, mode), None

    return await _edit(session, actor, pipeline_id, stage_id, delete)


async def add_comment(
    session: AsyncSession, actor: User, pipeline_id: int, stage_id: int, action_id: str, text: str
) -> tuple[str, Comment]:
    """Comment on an action of the chain in force (ACT-5); returns (action id, comment).
    Raises Forbidden (PERM-2), NotFound, InvalidInput (empty text)."""
    require_role(actor, ADMINS, "commenting on stage chains")
    text = text.strip()
    if not text:
        raise invalid("text", "not_empty", "a comment needs some text")
    async with session.begin():
        await _stage(session, pipeline_id, stage_id)
        chains.find_action((await chain_in_force(session, stage_id)).actions, action_id)
        row = await chains_repo.add_comment(
            session,
            ChainComment(stage_id=stage_id, action_id=action_id, author_id=actor.id, text=text),
        )
        return action_id, Comment(id=row.id, author_id=actor.id, text=text, at=row.created_at)


async def dry_run(
    session: AsyncSession,
    reader: User,
    pipeline_id: int,
    stage_id: int,
    lead_id: int,
    *,
    now: datetime | None = None,
) -> DryRun:
    """What the chain in force would do to the lead if it entered the stage now, step by step,
    decided on the lead's current data; webhook URLs masked for non-admins. Reads only.
    Raises NotFound (stage, lead)."""
    at = now or datetime.now(UTC)
    async with session.begin():
        await _stage(session, pipeline_id, stage_id)
        chain = await chain_in_force(session, stage_id)
        context = await build_context(session, lead_id)
    return DryRun(
        pipeline_id=pipeline_id,
        stage_id=stage_id,
        lead_id=lead_id,
        version=chain.version,
        at=at,
        steps=chains.plan_steps(_visible(chain.actions, reader), context, at),
    )


async def proposed_chain(
    session: AsyncSession,
    pipeline_id: int,
    stage_id: int,
    raw_actions: Any,
    *,
    webhook_targets: AllowList = NO_EXCEPTIONS,
) -> list[Action]:
    """The actions `put_chain` would save for this body, checked as it checks them, in the
    caller's transaction; nothing is saved. Raises NotFound, InvalidInput (each broken field
    by path)."""
    await _stage(session, pipeline_id, stage_id)
    current = await chain_in_force(session, stage_id)
    actions = chains.parse_actions(chains.assign_ids(raw_actions))
    errors = chains.webhook_target_errors(actions, webhook_targets, current.actions)
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    return actions
