"""Every saved history must replay on today's workflow code (a non-deterministic change fails)."""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.guided_object import GuidedObjectWorkflow
from workflows.lead import LeadWorkflow
from workflows.stage_chain import StageChainWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_history_replays(path: Path) -> None:
    replayer = Replayer(
        workflows=[LeadWorkflow, StageChainWorkflow, GuidedObjectWorkflow],
        data_converter=pydantic_data_converter,
    )
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


def test_there_are_histories_to_replay() -> None:
    assert len(HISTORIES) >= 4
