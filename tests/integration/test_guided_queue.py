"""Guided workflows run on a task queue of their own (services/orchestrator.py
`guided_task_queue`, worker.py `build_guided_worker`), so a burst of evaluations waits there,
never ahead of lead workflow tasks; runs started on the main queue before it existed still
finish there."""

from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from config import Settings
from domain.guided import ObjectKind
from domain.guided_evaluation import GuidedObjectInput, guided_workflow_id
from services.orchestrator import GUIDED_WORKFLOW, Orchestrator, guided_task_queue
from tests.stack import Api


async def new_contact(admin: Api) -> int:
    contact = await admin.ok("post", "/contacts", {"first_name": "Queue"}, status=201)
    contact_id: int = contact["id"]
    return contact_id


async def test_a_records_evaluation_runs_on_the_guided_queue(
    running_worker: None,
    admin: Api,
    settings: Settings,
    orchestrator: Orchestrator,
    dev_server_env: WorkflowEnvironment,
) -> None:
    contact_id = await new_contact(admin)
    # The orchestrator's own call: the stack's holds evaluations back outside guided tests.
    await Orchestrator.evaluate_guided(orchestrator, ObjectKind.CONTACT, contact_id)

    handle = dev_server_env.client.get_workflow_handle(
        guided_workflow_id(ObjectKind.CONTACT, contact_id)
    )
    await handle.result()  # evaluated; a contact with no history has nothing due by time
    description = await handle.describe()
    assert description.task_queue == guided_task_queue(settings.task_queue)
    assert description.task_queue != settings.task_queue
    assert description.status == WorkflowExecutionStatus.COMPLETED


async def test_a_guided_run_started_on_the_main_queue_still_finishes(
    running_worker: None,
    admin: Api,
    settings: Settings,
    dev_server_env: WorkflowEnvironment,
) -> None:
    contact_id = await new_contact(admin)

    handle = await dev_server_env.client.start_workflow(
        GUIDED_WORKFLOW,
        GuidedObjectInput(object=ObjectKind.CONTACT, object_id=contact_id),
        id=guided_workflow_id(ObjectKind.CONTACT, contact_id),
        task_queue=settings.task_queue,
        start_signal="changed",
    )
    await handle.result()
    assert (await handle.describe()).task_queue == settings.task_queue
