"""The raw ceiling: a minimal workflow that only counts the signals it receives.

Benchmarks run it on the same Temporal server as the real stack, so the ratio between the
two says how much of Temporal's signal throughput Leadpipe keeps.
"""

from temporalio import workflow


@workflow.defn
class SignalSink:
    def __init__(self) -> None:
        self.received = 0

    @workflow.run
    async def run(self, expected: int) -> int:
        await workflow.wait_condition(lambda: self.received >= expected)
        return self.received

    @workflow.signal
    def event(self, event_id: str) -> None:
        self.received += 1
