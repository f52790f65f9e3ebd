"""Backtests (admins, like saving what they test): a proposed automation or stage chain
replayed over the pipeline's stored past, without side effects."""

from fastapi import APIRouter

from api.deps import Admin, AuthFirstRoute, SessionDep, SettingsDep
from api.problems import PROBLEM_RESPONSES
from api.schemas.backtests import (
    AutomationBacktestIn,
    BacktestRead,
    ChainBacktestIn,
    backtest_read,
)
from api.schemas.fields import PathId
from domain.automation import AutomationConfig
from domain.lead_settings import CreateLeadOnLifecycle
from services import backtests
from services.backtests import WindowAsked

router = APIRouter(route_class=AuthFirstRoute, tags=["backtests"], responses=PROBLEM_RESPONSES)

_REPLAY = (
    "Replays the stored activity and stage history of the pipeline's leads over the last "
    "`days` (default 30, at most 90) through the same rules the workflows apply. Answers "
    "`leads` replayed, `moves` per rule, `runs_started`, `effects` per action type and up to "
    "20 `examples` per counted thing, with `actual`: the same counts for what was stored. "
    "Beside them: `differences` per key (what the proposal adds and prevents lead by lead), "
    "`approximate_reasons` (what the replay cannot know), `activities` replayed and "
    "`truncated` (the replay stopped at its bounds). Changes nothing. The body is checked as "
    "saving checks it (same 422s)."
)


def _asked(body: AutomationBacktestIn | ChainBacktestIn) -> WindowAsked:
    if body.window is None:
        return WindowAsked(days=body.days)
    return WindowAsked(days=body.days, start=body.window.start, end=body.window.end)


@router.post(
    "/pipelines/{pipeline_id}/automation:backtest",
    response_model=BacktestRead,
    summary="What proposed automation rules would have done (admins)",
    description=_REPLAY,
)
async def backtest_automation(
    pipeline_id: PathId, body: AutomationBacktestIn, session: SessionDep, actor: Admin
) -> BacktestRead:
    config = AutomationConfig.model_validate(
        body.model_dump(
            include={"follow_up_on_disqualify", "advance_on_outreach", "advance_on_connect"}
        )
    )
    lifecycle = (
        CreateLeadOnLifecycle.model_validate(body.create_lead_on_lifecycle.model_dump())
        if body.create_lead_on_lifecycle is not None
        else None
    )
    outcome = await backtests.backtest_automation(
        session, actor, pipeline_id, config, lifecycle, _asked(body)
    )
    return backtest_read(outcome)


@router.post(
    "/pipelines/{pipeline_id}/stages/{stage_id}/chain:backtest",
    response_model=BacktestRead,
    summary="What a proposed stage chain would have done (admins)",
    description=_REPLAY,
)
async def backtest_chain(
    pipeline_id: PathId,
    stage_id: PathId,
    body: ChainBacktestIn,
    session: SessionDep,
    actor: Admin,
    settings: SettingsDep,
) -> BacktestRead:
    outcome = await backtests.backtest_chain(
        session,
        actor,
        pipeline_id,
        stage_id,
        body.actions,
        _asked(body),
        webhook_targets=settings.webhook_allow_list,
    )
    return backtest_read(outcome)
