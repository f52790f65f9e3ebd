"""The raw ceiling for stage chains: a minimal workflow that runs no-op activities in sequence.

bench/chains.py runs it on the same Temporal server as the real stack, one workflow per lead and
one activity per chain step, so the ratio between the two says how much of Temporal's
sequential-activity throughput a chain run keeps.
"""

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bench_noop_step")
async def noop_step(step: int) -> int:
    return step


@workflow.defn
class NoopSteps:
    @workflow.run
    async def run(self, steps: int) -> int:
        for step in range(steps):
            await workflow.execute_activity(
                noop_step, step, start_to_close_timeout=timedelta(seconds=30)
            )
        return steps
