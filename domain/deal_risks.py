"""The risks of a deal (DEAL-7), each a rule of its own that holds or not, with the evidence it
rests on: activity ids first; a stage change, a close date change or a kept deal score where no
activity is the evidence. Every sentence cites it (`cite`).

- `no_follow_up`: an open deal with no future meeting and no open task.
- `stage_stalled`: in its stage longer than the stage's norm (domain/deals.py).
- `close_date_slipped`: the close date has passed while the deal is open, or was moved later
  in the last `SLIP_WINDOW`.
- `budget`, `buyer_uncertainty`: the phrases of domain/insight_phrases.py in the words of an
  email, a note or a meeting's notes.
- `no_reply`: emails sent to the buyer that no buyer response has followed, the first of them
  at least `NO_REPLY_AFTER` ago.
- `falling_score`: the deal score (domain/deal_score.py) has fallen.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.deal_score import DealScore, ScorePoint, score_fall
from domain.deals import StageNorm, days_between
from domain.engagements import Engagement, EngagementType, clip, local_date
from domain.insight_phrases import BUDGET_PATTERN, UNCERTAINTY_PATTERN

MAX_EVIDENCE = 10
SLIP_WINDOW = timedelta(days=90)
NO_REPLY_AFTER = timedelta(days=7)
_QUOTE_LENGTH = 200


class RiskKind(StrEnum):
    NO_FOLLOW_UP = "no_follow_up"
    STAGE_STALLED = "stage_stalled"
    CLOSE_DATE_SLIPPED = "close_date_slipped"
    BUDGET = "budget"
    BUYER_UNCERTAINTY = "buyer_uncertainty"
    NO_REPLY = "no_reply"
    FALLING_SCORE = "falling_score"


class EvidenceKind(StrEnum):
    ACTIVITY = "activity"
    STAGE_CHANGE = "stage_change"
    CLOSE_DATE_CHANGE = "close_date_change"
    DEAL_SCORE = "deal_score"


@dataclass(frozen=True)
class Evidence:
    kind: EvidenceKind
    id: int


@dataclass(frozen=True)
class Risk:
    kind: RiskKind
    text: str
    evidence: tuple[Evidence, ...] = ()

    @property
    def activity_ids(self) -> tuple[int, ...]:
        return tuple(e.id for e in self.evidence if e.kind == EvidenceKind.ACTIVITY)


@dataclass(frozen=True)
class CloseDateChange:
    id: int
    at: datetime
    from_date: date | None
    to_date: date | None


@dataclass(frozen=True)
class FollowUp:
    """The next thing scheduled on the deal: a future meeting or an open task."""

    kind: str
    id: int
    at: datetime | None
    title: str


@dataclass(frozen=True)
class DealFacts:
    """The deal as the viewer sees it, with its history."""

    deal_id: int
    name: str
    is_open: bool
    stage_label: str
    stage_entered_at: datetime
    # The change that put the deal in its stage; None while in the stage it was created in.
    stage_change_id: int | None
    norm: StageNorm
    close_date: date | None
    close_date_changes: tuple[CloseDateChange, ...] = ()
    follow_up: FollowUp | None = None


# -- Citations ---------------------------------------------------------------------------------

_NAMES = {
    EvidenceKind.ACTIVITY: ("activity", "activities"),
    EvidenceKind.STAGE_CHANGE: ("stage change", "stage changes"),
    EvidenceKind.CLOSE_DATE_CHANGE: ("close date change", "close date changes"),
    EvidenceKind.DEAL_SCORE: ("deal score", "deal scores"),
}


def cite(evidence: Sequence[Evidence]) -> str:
    """`[activities 31, 32; stage change 7]`; `[no activities]` when nothing is cited."""
    parts = []
    for kind, (one, many) in _NAMES.items():
        ids = list(dict.fromkeys(e.id for e in evidence if e.kind == kind))
        if ids:
            parts.append(f"{one if len(ids) == 1 else many} {', '.join(map(str, ids))}")
    return f"[{'; '.join(parts)}]" if parts else "[no activities]"


def _activities(ids: Sequence[int]) -> tuple[Evidence, ...]:
    return tuple(Evidence(EvidenceKind.ACTIVITY, i) for i in dict.fromkeys(ids))


# -- Risk rules --------------------------------------------------------------------------------


def no_follow_up(
    facts: DealFacts, engagements: Sequence[Engagement], time_zone: str
) -> Risk | None:
    if not facts.is_open or facts.follow_up is not None:
        return None
    text = "No follow-up is scheduled: no upcoming meeting or open task on the deal"
    if not engagements:
        return Risk(RiskKind.NO_FOLLOW_UP, f"{text}, and no engagement is on record.")
    last = engagements[0]
    when = local_date(last.occurred_at, time_zone)
    return Risk(
        RiskKind.NO_FOLLOW_UP,
        f"{text}; the last engagement was the {last.label()} on {when}.",
        _activities([last.activity_id]),
    )


def stage_stalled(facts: DealFacts, now: datetime) -> Risk | None:
    if not facts.is_open or now - facts.stage_entered_at <= facts.norm.duration:
        return None
    days = days_between(facts.stage_entered_at, now)
    evidence = (
        (Evidence(EvidenceKind.STAGE_CHANGE, facts.stage_change_id),)
        if facts.stage_change_id is not None
        else ()
    )
    return Risk(
        RiskKind.STAGE_STALLED,
        f'The deal has been in stage "{facts.stage_label}" for {days} days, longer than the '
        f"stage's norm: {facts.norm.basis}.",
        evidence,
    )


def close_date_slipped(facts: DealFacts, now: datetime, today: date) -> Risk | None:
    if not facts.is_open:
        return None
    sentences: list[str] = []
    evidence: list[Evidence] = []
    if facts.close_date is not None and facts.close_date < today:
        sentences.append(f"The close date {facts.close_date} has passed while the deal is open.")
    later = [
        c
        for c in facts.close_date_changes
        if now - c.at <= SLIP_WINDOW
        and c.from_date is not None
        and c.to_date is not None
        and c.to_date > c.from_date
    ]
    if later:
        latest = max(later, key=lambda c: (c.at, c.id))
        times = "once" if len(later) == 1 else f"{len(later)} times"
        sentences.append(
            f"The close date was moved later {times} in the last {SLIP_WINDOW.days} days, "
            f"most recently from {latest.from_date} to {latest.to_date}."
        )
        evidence += [Evidence(EvidenceKind.CLOSE_DATE_CHANGE, c.id) for c in later]
    if not sentences:
        return None
    return Risk(RiskKind.CLOSE_DATE_SLIPPED, " ".join(sentences), tuple(evidence))


def _language_risk(
    kind: RiskKind,
    title: str,
    pattern: re.Pattern[str],
    engagements: Sequence[Engagement],
    time_zone: str,
) -> Risk | None:
    found = [(e, s) for e in engagements if (s := _first_sentence(e.words(), pattern))]
    if not found:
        return None
    first, sentence = found[0]
    when = local_date(first.occurred_at, time_zone)
    more = len(found) - 1
    tail = "" if not more else f" ({more} more {'activity says' if more == 1 else 'say'} so)"
    return Risk(
        kind,
        f'{title} in the {first.label()} on {when}: "{sentence}"{tail}.',
        _activities([e.activity_id for e, _ in found[:MAX_EVIDENCE]]),
    )


def budget(engagements: Sequence[Engagement], time_zone: str) -> Risk | None:
    return _language_risk(
        RiskKind.BUDGET, "Budget language", BUDGET_PATTERN, engagements, time_zone
    )


def buyer_uncertainty(engagements: Sequence[Engagement], time_zone: str) -> Risk | None:
    return _language_risk(
        RiskKind.BUYER_UNCERTAINTY,
        "Buyer uncertainty",
        UNCERTAINTY_PATTERN,
        engagements,
        time_zone,
    )


def no_reply(engagements: Sequence[Engagement], now: datetime, time_zone: str) -> Risk | None:
    unanswered: list[Engagement] = []
    for e in engagements:  # newest first: stop at the buyer's latest response
        if e.is_buyer_response:
            break
        if e.type == EngagementType.EMAIL_SENT:
            unanswered.append(e)
    if not unanswered or now - unanswered[-1].occurred_at < NO_REPLY_AFTER:
        return None
    first = unanswered[-1]
    days = days_between(first.occurred_at, now)
    count = "an email" if len(unanswered) == 1 else f"{len(unanswered)} emails"
    return Risk(
        RiskKind.NO_REPLY,
        f"No reply from the buyer to {count} since "
        f"{local_date(first.occurred_at, time_zone)} ({days} days).",
        _activities([e.activity_id for e in unanswered[:MAX_EVIDENCE]]),
    )


def falling_score(score: DealScore, history: Sequence[ScorePoint], today: date) -> Risk | None:
    peak = score_fall(score.value, history, today)
    if peak is None:
        return None
    reasons = "; ".join(f.reason for f in score.factors if f.points < f.most)
    recency = score.factor("recency")
    return Risk(
        RiskKind.FALLING_SCORE,
        f"The deal score fell from {peak.value} on {peak.scored_on} to {score.value} today: "
        f"{reasons}.",
        (Evidence(EvidenceKind.DEAL_SCORE, peak.id), *_activities(recency.activity_ids)),
    )


def risks_of(
    facts: DealFacts,
    engagements: Sequence[Engagement],
    score: DealScore,
    history: Sequence[ScorePoint],
    *,
    now: datetime,
    today: date,
    score_day: date,
    time_zone: str,
) -> tuple[Risk, ...]:
    """Every risk that holds, in a fixed order. `today` is the viewer's local date (close
    dates), `score_day` the day the score is kept under (its history)."""
    found = (
        no_follow_up(facts, engagements, time_zone),
        stage_stalled(facts, now),
        close_date_slipped(facts, now, today),
        budget(engagements, time_zone),
        buyer_uncertainty(engagements, time_zone),
        no_reply(engagements, now, time_zone),
        falling_score(score, history, score_day),
    )
    return tuple(r for r in found if r is not None)


# -- Sentences -------------------------------------------------------------------------------------

_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_BREAK.split(text) if s.strip()]


def _first_sentence(text: str, pattern: re.Pattern[str]) -> str | None:
    for sentence in sentences(text):
        if pattern.search(sentence):
            return clip(sentence, _QUOTE_LENGTH)
    return None
