"""The lead a stage write hands back to its workflow is the lead as it is stored: the stage
entry it reports is the history row just written (services/lead_transitions.py), the one a
fresh read finds, and a retried write reports it again."""

import uuid

from sqlalchemy import select

from db.engine import SessionFactory
from db.models import Lead, LeadStageChange, Pipeline, Stage
from domain.leads import MoveCause, StageChangeInput
from domain.stages import PipelineObject, StageKind
from services import lead_transitions


async def new_lead(session_factory: SessionFactory) -> tuple[int, int, int]:
    """A lead in the first stage of a pipeline of its own: (lead, first stage, second)."""
    async with session_factory() as session, session.begin():
        pipeline = Pipeline(object=PipelineObject.LEAD, label=f"Snapshots {uuid.uuid4().hex}")
        session.add(pipeline)
        await session.flush()
        first, second = (
            Stage(pipeline_id=pipeline.id, label=label, position=i, kind=StageKind.OPEN)
            for i, label in enumerate(("New", "Attempting"))
        )
        session.add_all([first, second])
        await session.flush()
        lead = Lead(name="Snap", pipeline_id=pipeline.id, stage_id=first.id)
        session.add(lead)
        await session.flush()
        session.add(LeadStageChange(lead_id=lead.id, to_stage_id=first.id, cause="created"))
        return lead.id, first.id, second.id


async def test_a_moves_snapshot_names_the_history_row_it_wrote(
    session_factory: SessionFactory,
) -> None:
    lead_id, first, second = await new_lead(session_factory)
    move = StageChangeInput(
        lead_id=lead_id,
        to_stage_id=second,
        cause=MoveCause.automation("Outreach"),
        event_id="snap-1",
        transition_key=f"snap-{uuid.uuid4().hex}",
        expected_from_stage_id=first,
    )

    async with session_factory() as session:
        result = await lead_transitions.change_stage(session, move)
    async with session_factory() as session:
        entry = await session.scalar(
            select(LeadStageChange).where(LeadStageChange.transition_key == move.transition_key)
        )
        stored = await lead_transitions.load_snapshot(session, lead_id)
    async with session_factory() as session:
        retried = await lead_transitions.change_stage(session, move)

    assert result.moved
    assert entry is not None and entry.to_stage_id == second
    assert result.snapshot.stage_entry_id == entry.id
    assert result.snapshot == stored
    assert retried == result
