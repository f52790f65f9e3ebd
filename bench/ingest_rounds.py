"""The ingest benchmark's figures for one round, their medians over the rounds, and how they
print (bench/ingest.py)."""

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from bench.percentiles import percentile


@dataclass(frozen=True)
class Latency:
    p50: float
    p95: float
    p99: float
    n: int

    @staticmethod
    def of(values: list[float]) -> "Latency":
        p50, p95, p99 = (percentile(values, q) for q in (50, 95, 99))
        return Latency(p50, p95, p99, len(values))

    def line(self, name: str) -> str:
        return (
            f"{name:<30} p50 {self.p50:7.1f} ms  p95 {self.p95:7.1f} ms  "
            f"p99 {self.p99:7.1f} ms  (n={self.n})"
        )


@dataclass(frozen=True)
class Round:
    ceiling: float
    peak: float
    at_peak: Latency
    at_half_peak: Latency
    at_half_peak_spread: Latency
    batch: float

    @property
    def ratio(self) -> float:
        return self.peak / self.ceiling

    @property
    def batch_ratio(self) -> float:
        return self.batch / self.ceiling

    @staticmethod
    def median(rounds: list["Round"]) -> "Round":
        """Each figure's median over the rounds (latency percentiles too, one by one)."""

        def latency(pick: Callable[[Round], Latency]) -> Latency:
            return Latency(
                statistics.median(pick(r).p50 for r in rounds),
                statistics.median(pick(r).p95 for r in rounds),
                statistics.median(pick(r).p99 for r in rounds),
                sum(pick(r).n for r in rounds),
            )

        return Round(
            statistics.median(r.ceiling for r in rounds),
            statistics.median(r.peak for r in rounds),
            latency(lambda r: r.at_peak),
            latency(lambda r: r.at_half_peak),
            latency(lambda r: r.at_half_peak_spread),
            statistics.median(r.batch for r in rounds),
        )


def print_round(r: Round) -> None:
    print(f"raw ceiling (signals/s)       {r.ceiling:8.1f}")
    print(f"end to end (activities/s)     {r.peak:8.1f}")
    print(f"ratio end-to-end / ceiling    {r.ratio:8.2f}")
    print(r.at_peak.line("latency at peak rate"))
    print(r.at_half_peak.line(f"latency at {r.peak / 2:.0f}/s (half peak)"))
    print(r.at_half_peak_spread.line("  the same, moves spread"))
    print(f"batch end to end (activities/s) {r.batch:6.1f}")
    print(f"ratio batch / ceiling         {r.batch_ratio:8.2f}")
