"""Deal insights (DEAL-6, DEAL-7, DEAL-10): recent activity, risks (domain/deal_risks.py) and
buyer goals, built by fixed rules from a deal and the engagements its viewer may see, with one
copyable plain text.

Deterministic and explainable: the same facts give the same insights, and every sentence cites
what it rests on. The service gathers the facts under the viewer's visibility (DEAL-8); nothing
here can see more than it is given.

Buyer goals are sentences in the buyer's own words that say what they want (GOALS phrases):
from the emails the buyer sent (lines quoting an earlier email left out), and from passages a
rep quoted in a note or in a meeting's notes.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from domain.deal_risks import DealFacts, Evidence, EvidenceKind, Risk, cite, risks_of, sentences
from domain.deal_score import DealScore, ScorePoint
from domain.engagements import Engagement, EngagementType, clip, local_date
from domain.insight_phrases import GOALS_PATTERN

RECENT_ITEMS = 5
MAX_GOALS = 5
_GOAL_LENGTH = 300


@dataclass(frozen=True)
class RecentItem:
    activity_id: int
    type: EngagementType
    occurred_at: datetime
    summary: str


@dataclass(frozen=True)
class Goal:
    text: str
    activity_ids: tuple[int, ...]


@dataclass(frozen=True)
class Insights:
    deal_id: int
    recent: tuple[RecentItem, ...]
    risks: tuple[Risk, ...]
    goals: tuple[Goal, ...]
    score: DealScore
    based_on: int
    text: str


# -- Buyer goals -------------------------------------------------------------------------------

_QUOTED = re.compile(r'"([^"\n]{3,})"|“([^”\n]{3,})”')


def buyer_words(engagement: Engagement) -> list[str]:
    """The passages of an engagement that are the buyer's own words."""
    if engagement.type == EngagementType.EMAIL_REPLY:
        own = "\n".join(
            line for line in engagement.words().splitlines() if not line.lstrip().startswith(">")
        )
        return [own] if own.strip() else []
    if engagement.type in (EngagementType.NOTE, EngagementType.MEETING) and engagement.body:
        return [a or b for a, b in _QUOTED.findall(engagement.body)]
    return []


def buyer_goals(engagements: Sequence[Engagement]) -> tuple[Goal, ...]:
    """Sentences in the buyer's words that state a goal, newest first, each once."""
    goals: dict[str, tuple[str, list[int]]] = {}
    for e in engagements:
        for passage in buyer_words(e):
            for sentence in sentences(passage):
                if not GOALS_PATTERN.search(sentence):
                    continue
                text = clip(sentence, _GOAL_LENGTH)
                key = text.casefold()
                if key in goals:
                    goals[key][1].append(e.activity_id)
                elif len(goals) < MAX_GOALS:
                    goals[key] = (text, [e.activity_id])
    return tuple(Goal(text, tuple(dict.fromkeys(ids))) for text, ids in goals.values())


def _activities(ids: Sequence[int]) -> tuple[Evidence, ...]:
    return tuple(Evidence(EvidenceKind.ACTIVITY, i) for i in dict.fromkeys(ids))


# -- The whole ---------------------------------------------------------------------------------


def recent_activity(engagements: Sequence[Engagement]) -> tuple[RecentItem, ...]:
    return tuple(
        RecentItem(e.activity_id, e.type, e.occurred_at, e.summary())
        for e in engagements[:RECENT_ITEMS]
    )


def build_insights(
    facts: DealFacts,
    engagements: Sequence[Engagement],
    score: DealScore,
    history: Sequence[ScorePoint],
    *,
    now: datetime,
    today: date,
    score_day: date,
    time_zone: str,
) -> Insights:
    """Insights from the facts and the engagements (newest first) the viewer may see. `today`
    is the viewer's local date, `score_day` the day the score is kept under."""
    recent = recent_activity(engagements)
    risks = risks_of(
        facts,
        engagements,
        score,
        history,
        now=now,
        today=today,
        score_day=score_day,
        time_zone=time_zone,
    )
    goals = buyer_goals(engagements)
    return Insights(
        deal_id=facts.deal_id,
        recent=recent,
        risks=risks,
        goals=goals,
        score=score,
        based_on=len(engagements),
        text=plain_text(facts, recent, risks, goals, len(engagements), time_zone),
    )


def plain_text(
    facts: DealFacts,
    recent: Sequence[RecentItem],
    risks: Sequence[Risk],
    goals: Sequence[Goal],
    based_on: int,
    time_zone: str,
) -> str:
    """The insights as one copyable text (DEAL-10)."""
    what = "engagement" if based_on == 1 else "engagements"
    lines = [
        f'Deal insights: "{facts.name}" (deal {facts.deal_id})',
        f"From the {based_on} most recent {what} you may see (meetings, notes, emails, calls).",
        "",
        "Recent activity",
    ]
    lines += [
        f"- {local_date(r.occurred_at, time_zone)}: {r.summary} "
        f"{cite(_activities([r.activity_id]))}"
        for r in recent
    ] or ["- No meetings, notes, emails or calls you may see. [no activities]"]
    lines += ["", "Risks"]
    lines += [f"- {r.text} {cite(r.evidence)}" for r in risks] or [
        "- None found in what you may see. [no activities]"
    ]
    lines += ["", "Buyer goals"]
    lines += [f'- "{g.text}" {cite(_activities(g.activity_ids))}' for g in goals] or [
        "- The buyer states no goals in the emails and notes you may see. [no activities]"
    ]
    return "\n".join(lines)
