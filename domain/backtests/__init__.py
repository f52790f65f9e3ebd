"""Backtests: proposed automation rules or a proposed stage chain replayed over the stored
past of a pipeline's leads, without side effects, and compared with what happened.

Modules, each importing only those before it: `windows` (the time replayed), `tallies`
(counts per key and lead), `timelines` (a lead's stages under proposed rules), `runs` (a
chain run over one stage entry), `outcomes` (the whole answer, lead by lead).
"""

from domain.backtests.outcomes import FOLLOW_UP, ChainVersionAt, Outcome, Reason, StageChains
from domain.backtests.runs import LeadActivity, RunEnd, RunReplay, StepTaken, replay_run
from domain.backtests.tallies import EXAMPLES, Comparison, Tally
from domain.backtests.timelines import (
    Entry,
    LeadRecord,
    StageInfo,
    StoredEvent,
    StoredMove,
    Timeline,
    replay_timeline,
    stored_entries,
)
from domain.backtests.windows import DEFAULT_DAYS, MAX_DAYS, Window, resolve_window

__all__ = [
    "DEFAULT_DAYS",
    "EXAMPLES",
    "FOLLOW_UP",
    "MAX_DAYS",
    "ChainVersionAt",
    "Comparison",
    "Entry",
    "LeadActivity",
    "LeadRecord",
    "Outcome",
    "Reason",
    "RunEnd",
    "RunReplay",
    "StageChains",
    "StageInfo",
    "StepTaken",
    "StoredEvent",
    "StoredMove",
    "Tally",
    "Timeline",
    "Window",
    "replay_run",
    "replay_timeline",
    "resolve_window",
    "stored_entries",
]
