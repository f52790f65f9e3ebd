"""Counting what the replay would have done against what was stored, lead by lead.

Counts are kept per key (a rule, a stage, an action type, an action) and per lead, so the
difference is more than two totals: `added` counts what the proposal does beyond what
happened to each lead, `prevented` what happened that the proposal would not have done.
"""

from collections import defaultdict
from dataclasses import dataclass, field

EXAMPLES = 20
"""Example lead ids kept per count."""


@dataclass(frozen=True)
class Comparison:
    key: str
    proposed: int
    actual: int
    added: int
    prevented: int
    # Leads the proposal does this to; leads it does more to; leads it does less to.
    examples: tuple[int, ...]
    added_examples: tuple[int, ...]
    prevented_examples: tuple[int, ...]

    @property
    def difference(self) -> int:
        return self.proposed - self.actual


@dataclass
class Tally:
    proposed: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    actual: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))

    def add_proposed(self, key: str, lead_id: int, count: int = 1) -> None:
        by_lead = self.proposed[key]
        by_lead[lead_id] = by_lead.get(lead_id, 0) + count

    def add_actual(self, key: str, lead_id: int, count: int = 1) -> None:
        by_lead = self.actual[key]
        by_lead[lead_id] = by_lead.get(lead_id, 0) + count

    def keys(self) -> list[str]:
        return sorted(set(self.proposed) | set(self.actual))

    def compare(self, key: str) -> Comparison:
        proposed = self.proposed.get(key, {})
        actual = self.actual.get(key, {})
        added: list[int] = []
        prevented: list[int] = []
        more = less = 0
        for lead_id in sorted(set(proposed) | set(actual)):
            gap = proposed.get(lead_id, 0) - actual.get(lead_id, 0)
            if gap > 0:
                more += gap
                added.append(lead_id)
            elif gap < 0:
                less -= gap
                prevented.append(lead_id)
        return Comparison(
            key=key,
            proposed=sum(proposed.values()),
            actual=sum(actual.values()),
            added=more,
            prevented=less,
            examples=tuple(sorted(proposed)[:EXAMPLES]),
            added_examples=tuple(added[:EXAMPLES]),
            prevented_examples=tuple(prevented[:EXAMPLES]),
        )

    def comparisons(self, keys: list[str] | None = None) -> list[Comparison]:
        """Every key counted, and any of `keys` even if nothing was counted for it."""
        return [self.compare(k) for k in sorted(set(self.keys()) | set(keys or []))]
