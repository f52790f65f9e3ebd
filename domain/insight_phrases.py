"""The phrases deal insights look for (DEAL-7), kept in one list each so they can be read,
reviewed and extended without reading the rules.

Matching is on whole words, case-insensitive, after straight and curly apostrophes are made
one: `budget cut` matches "Budget cut", "the budget cut we feared", but not "budgets cutting".
Each phrase stands for itself: there is no stemming and no negation ("no budget concerns"
still says "concerns"), so a phrase goes on a list only if it is worth a look wherever it
appears.
"""

import re
from collections.abc import Iterable

# Money is tighter than it was: a risk to the deal's amount or to the deal itself.
BUDGET: tuple[str, ...] = (
    "budget cut",
    "budget cuts",
    "budget was cut",
    "budget has been cut",
    "cut our budget",
    "cut the budget",
    "cutting the budget",
    "cutting budgets",
    "budget reduction",
    "reduced budget",
    "reduce our budget",
    "budget freeze",
    "budget is frozen",
    "frozen budget",
    "spending freeze",
    "hiring freeze",
    "no budget",
    "out of budget",
    "over budget",
    "tight budget",
    "budget is tight",
    "budget constraints",
    "budget constraint",
    "budget concerns",
    "can't afford",
    "cannot afford",
    "too expensive",
    "price is too high",
    "pricing is too high",
    "cost cutting",
    "cost-cutting",
    "cheaper option",
    "cheaper alternative",
)

# The buyer is not sure, is waiting, or is looking elsewhere.
UNCERTAINTY: tuple[str, ...] = (
    "not sure",
    "unsure",
    "uncertain",
    "uncertainty",
    "hesitant",
    "on hold",
    "put this on hold",
    "pause the project",
    "paused the project",
    "revisit next quarter",
    "revisit this next year",
    "need to think",
    "think it over",
    "not a priority",
    "no longer a priority",
    "lower priority",
    "not ready",
    "second thoughts",
    "reconsider",
    "reconsidering",
    "other options",
    "other vendors",
    "evaluating alternatives",
    "looking at alternatives",
    "competitor",
    "competitors",
    "no decision",
    "postpone",
    "postponed",
    "push this back",
    "pushed back",
    "delay the decision",
    "wait until",
    "need approval",
    "need sign-off",
    "check with my boss",
    "run it by",
    "concerns",
    "worried",
)

# The buyer saying what they want: a goal, a need, a priority, in their own words.
GOALS: tuple[str, ...] = (
    "we need",
    "we want",
    "we'd like",
    "we would like",
    "we are looking to",
    "we're looking to",
    "we are looking for",
    "we're looking for",
    "looking for a way",
    "our goal",
    "our goals",
    "the goal is",
    "our objective",
    "our objectives",
    "our priority",
    "our priorities",
    "our top priority",
    "we hope to",
    "we plan to",
    "we aim to",
    "we must",
    "we have to",
    "we're trying to",
    "we are trying to",
    "we expect to",
    "we intend to",
    "it's important for us",
    "it is important for us",
    "important to us",
    "we're hoping to",
    "we are hoping to",
)


# A straight apostrophe and the right single quotation mark (U+2019) mean the same.
_APOSTROPHE_CHARS = "'\u2019"
_APOSTROPHES = f"[{_APOSTROPHE_CHARS}]"


def _pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    # Longest first, so a longer phrase wins over a shorter one it contains.
    ordered = sorted(set(phrases), key=len, reverse=True)
    alternatives = "|".join(re.escape(p).replace("'", _APOSTROPHES) for p in ordered)
    return re.compile(
        rf"(?<![\w{_APOSTROPHE_CHARS}])(?:{alternatives})(?![\w{_APOSTROPHE_CHARS}])",
        re.IGNORECASE,
    )


BUDGET_PATTERN = _pattern(BUDGET)
UNCERTAINTY_PATTERN = _pattern(UNCERTAINTY)
GOALS_PATTERN = _pattern(GOALS)
