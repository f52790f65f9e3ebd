"""The lead workflow's activity calls, with their timeouts and retries."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.leads import LeadSnapshot, LoadLeadInput, StageChangeInput, StageChangeResult
    from domain.progression import LoadProgressionInput, ProgressionConfig

ACTIVITY_TIMEOUT = timedelta(seconds=30)
# Activities heartbeat every 2 s: a worker killed inside one is noticed within this, and the
# attempt runs again elsewhere instead of waiting out ACTIVITY_TIMEOUT.
ACTIVITY_HEARTBEAT = timedelta(seconds=5)
# Infrastructure errors (database down, worker gone) retry for as long as they last; business
# refusals are non-retryable ApplicationErrors and end the call at once.
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=0,
)


async def load_lead(lead_id: int) -> LeadSnapshot:
    snapshot: LeadSnapshot = await workflow.execute_activity(
        "load_lead",
        LoadLeadInput(lead_id=lead_id),
        result_type=LeadSnapshot,
        start_to_close_timeout=ACTIVITY_TIMEOUT,
        heartbeat_timeout=ACTIVITY_HEARTBEAT,
        retry_policy=DB_RETRY,
    )
    return snapshot


async def change_lead_stage(change: StageChangeInput) -> StageChangeResult:
    """Write a transition; a refusal raises ActivityError caused by an ApplicationError."""
    result: StageChangeResult = await workflow.execute_activity(
        "change_lead_stage",
        change,
        result_type=StageChangeResult,
        start_to_close_timeout=ACTIVITY_TIMEOUT,
        heartbeat_timeout=ACTIVITY_HEARTBEAT,
        retry_policy=DB_RETRY,
    )
    return result


async def load_progression(pipeline_id: int) -> ProgressionConfig:
    config: ProgressionConfig = await workflow.execute_local_activity(
        "load_progression",
        LoadProgressionInput(pipeline_id=pipeline_id),
        result_type=ProgressionConfig,
        start_to_close_timeout=ACTIVITY_TIMEOUT,
        retry_policy=DB_RETRY,
    )
    return config


async def is_default_pipeline(pipeline_id: int) -> bool:
    is_default: bool = await workflow.execute_local_activity(
        "is_default_pipeline",
        LoadProgressionInput(pipeline_id=pipeline_id),
        result_type=bool,
        start_to_close_timeout=ACTIVITY_TIMEOUT,
        retry_policy=DB_RETRY,
    )
    return is_default
