"""How long deals usually stay in a stage (domain/deals.py `stage_norm`): the stalled view
of the deals tab, a deal's overview and its insights read them."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import deals as deals_repo
from domain.deals import NORM_MAX_AGE, NORM_WINDOW, StageNorm, stage_norm


async def stage_norms(
    session: AsyncSession, stage_ids: Sequence[int], now: datetime
) -> dict[int, StageNorm]:
    """Each stage's norm (domain/deals.py), from the kept figures while they are younger than
    NORM_MAX_AGE; older or missing ones are computed again from the history and kept."""
    stored = await deals_repo.stored_norms(session, stage_ids)
    stale = [s for s in stage_ids if s not in stored or now - stored[s].computed_at > NORM_MAX_AGE]
    fresh = await deals_repo.stage_exits(session, stale, now - NORM_WINDOW) if stale else {}
    await deals_repo.save_norms(session, fresh, now)
    figures = {s: (n.samples, n.median_seconds) for s, n in stored.items()} | fresh
    return {s: stage_norm(*figures[s]) for s in stage_ids}
