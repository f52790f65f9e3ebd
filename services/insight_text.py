"""An optional text-generation provider for deal insights: it may rewrite the summary.

Off by default, and nothing in Leadpipe ships one: insights are the deterministic text of
domain/insights.py, every sentence citing its evidence. A deployment that wants prose plugs in
an object with this interface as `app.state.summary_writer`; its text is returned apart, as
`summary`, marked with the writer's name, and never replaces the cited `text`. A writer
answers None when it has nothing (its provider down, too slow): `summary` is then left out;
what it raises is a bug and is not hidden.
"""

from dataclasses import dataclass
from typing import Protocol

from domain.insights import Insights


@dataclass(frozen=True)
class Summary:
    text: str
    generated_by: str


class SummaryWriter(Protocol):
    name: str

    async def rewrite(self, insights: Insights) -> str | None:
        """A summary of the insights, or None to leave it out."""
        ...


class NoSummary:
    """The default: no provider, no summary."""

    name = "none"

    async def rewrite(self, insights: Insights) -> str | None:
        return None


NO_SUMMARY = NoSummary()


async def summarize(writer: SummaryWriter, insights: Insights) -> Summary | None:
    if isinstance(writer, NoSummary):
        return None
    text = await writer.rewrite(insights)
    return Summary(text, writer.name) if text else None
