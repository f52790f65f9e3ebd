"""The workspace's leads board (WS-8): the viewed user's leads of a lead pipeline, stage by
stage. Read from PostgreSQL only; whose workspace as in services/viewed_workspace.py.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Lead, Pipeline, Stage, User
from db.repositories import leads as leads_repo
from db.repositories import pipelines as pipelines_repo
from domain.errors import NotFound, invalid
from services.viewed_workspace import Viewed, viewed_workspace

BOARD_LEADS = 50


@dataclass(frozen=True)
class BoardStage:
    stage: Stage
    count: int
    leads: Sequence[Lead]


@dataclass(frozen=True)
class Board:
    viewed: Viewed
    pipeline: Pipeline
    stages: Sequence[BoardStage]


async def leads_board(
    session: AsyncSession,
    actor: User,
    pipeline_id: int | None = None,
    stage_id: int | None = None,
    user_id: int | None = None,
) -> Board:
    """The user's leads of a lead pipeline (the default one unless named) as a board: each
    stage in order with how many of the user's leads it holds and the newest 50; `stage_id`
    keeps that stage only (WS-8). Moves go through `POST /leads/{id}/stage`.

    Raises Forbidden, SeatRequired, NotFound (see `viewed_workspace`), InvalidInput
    (`pipeline_id`: no such lead pipeline; `stage_id`: not a stage of it).
    """
    async with session.begin():
        viewed = await viewed_workspace(session, actor, user_id, "reading the leads board")
        if pipeline_id is None:
            pipeline = await pipelines_repo.get_default(session, "lead")
            if pipeline is None:
                raise NotFound("there is no default lead pipeline")
        else:
            found = await pipelines_repo.get(session, pipeline_id)
            if found is None or found.object != "lead":
                raise invalid(
                    "pipeline_id", "exists", f"lead pipeline {pipeline_id} does not exist"
                )
            pipeline = found
        stages = list(pipeline.stages)
        if stage_id is not None:
            stages = [s for s in stages if s.id == stage_id]
            if not stages:
                raise invalid(
                    "stage_id",
                    "stage_in_pipeline",
                    f"stage {stage_id} is not a stage of pipeline {pipeline.id}",
                )
        stage_ids = [s.id for s in stages]
        counts = await leads_repo.count_by_stage(session, viewed.user.id, stage_ids)
        newest: dict[int, list[Lead]] = {i: [] for i in stage_ids}
        for lead in await leads_repo.newest_by_stage(
            session, viewed.user.id, stage_ids, per_stage=BOARD_LEADS
        ):
            newest[lead.stage_id].append(lead)
    return Board(
        viewed,
        pipeline,
        [BoardStage(s, counts.get(s.id, 0), newest[s.id]) for s in stages],
    )
