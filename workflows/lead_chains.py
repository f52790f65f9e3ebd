"""The lead workflow's stage chains: the chain of a stage entry started as a child, and the
running one told of the lead's events and of its leaving the stage."""

import contextlib

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain.activities import LeadEvent
    from domain.chain_execution import (
        ChainEnrollment,
        ChainEnrollmentRequest,
        ChainInForce,
        ChainLookup,
        StageChainInput,
        chain_workflow_id,
    )
    from domain.chains.settings import ChainSettings
    from domain.leads import LeadSnapshot

from workflows.lead_calls import ACTIVITY_TIMEOUT, DB_RETRY

# Marks the histories that start stage chains; older ones replay without them.
STAGE_CHAINS_PATCH = "stage-chains"
# Marks the histories whose stage entries enroll through the chain's settings (enabled,
# re-enrollment) and pin them for the run (ACT-7); older ones started every non-empty chain.
ENROLLMENT_PATCH = "chain-settings-enrollment"


async def start_stage_chain(lead: LeadSnapshot) -> str | None:
    """Start the chain in force for the lead's stage entry as a child (ACT-1), if its settings
    let the entry in (ACT-7: enabled, re-enrollment); the run keeps those settings. Returns
    the chain's workflow id, None when no chain runs for the entry.

    ABANDON: the chain outlives this run's continue-as-new and the lead's closing; its id
    comes from the stage entry and version, so no entry ever runs it twice.
    """
    if not workflow.patched(STAGE_CHAINS_PATCH):
        return None
    if lead.stage_entry_id is None:
        return None
    settings = ChainSettings()
    if workflow.patched(ENROLLMENT_PATCH):
        # The activity decides and reserves the run in one transaction (re-enrollment
        # needs the lead's earlier runs; see services/chain_settings.py).
        enrollment: ChainEnrollment = await workflow.execute_local_activity(
            "enroll_in_chain",
            ChainEnrollmentRequest(
                lead_id=lead.lead_id,
                stage_id=lead.stage_id,
                stage_entry_id=lead.stage_entry_id,
            ),
            result_type=ChainEnrollment,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        if enrollment.workflow_id is None:
            if enrollment.refusal is not None:
                workflow.logger.info("stage chain not started: %s", enrollment.refusal)
            return None
        chain = ChainInForce(version=enrollment.version, actions=enrollment.actions)
        settings = enrollment.settings
        child_id = enrollment.workflow_id
    else:
        chain = await workflow.execute_local_activity(
            "chain_in_force",
            ChainLookup(stage_id=lead.stage_id),
            result_type=ChainInForce,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        if not chain.actions:
            return None
        child_id = chain_workflow_id(lead.lead_id, lead.stage_entry_id, chain.version)
    # An entry whose chain already ran or runs (same id) starts nothing.
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await workflow.start_child_workflow(
            "StageChainWorkflow",
            StageChainInput(
                lead_id=lead.lead_id,
                pipeline_id=lead.pipeline_id,
                stage_id=lead.stage_id,
                stage_entry_id=lead.stage_entry_id,
                version=chain.version,
                actions=chain.actions,
                settings=settings,
            ),
            id=child_id,
            parent_close_policy=ParentClosePolicy.ABANDON,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=f"{lead.name}: chain v{chain.version} of {lead.stage_label}",
        )
    return child_id


async def signal_chain(chain_id: str, name: str, arg: LeadEvent | None = None) -> bool:
    """Tell the running chain; False when it already finished (it has nothing to hear)."""
    handle = workflow.get_external_workflow_handle(chain_id)
    try:
        await (handle.signal(name, arg) if arg is not None else handle.signal(name))
    except ApplicationError:
        return False
    return True
