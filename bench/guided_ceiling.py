"""The raw ceiling for guided actions: a workflow that signal-with-start creates and that then
sleeps on one long timer, as a pending guided action's workflow does, minus the evaluation.

bench/guided.py starts as many as it can on the same Temporal server as the real worker, so
the ratio between the two says how much of Temporal's workflow-start throughput the creation
of guided actions keeps.
"""

from datetime import timedelta

from temporalio import workflow


@workflow.defn
class PendingTimer:
    @workflow.run
    async def run(self) -> None:
        await workflow.sleep(timedelta(days=7), summary="window")

    @workflow.signal
    def changed(self) -> None:
        pass
