"""A steady load of activities, posted as a service would: retried with the same event ids
until accepted, against whichever API answers.

Each lead follows one script: `email_sent` and a `note` in one batch (the email moves the lead
to Attempting, whose chain starts: a task, an email, a wait for an email open, a second
task); then, once its chain shows waiting, an `email_open` on its own, which lets the chain
finish. A wait counts only events that come after it starts, and an open that arrives as it
starts may go unseen; like a contact who opens again, the script sends another open (a new
event) while the chain still waits some seconds later.
"""

import asyncio
import itertools
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from db.engine import SessionFactory
from db.models import ChainRun, ChainStep

TICK_SECONDS = 0.2
BATCH_LEADS = 3
REQUEST_TIMEOUT = 15.0
# A chain still waiting this long after an accepted open gets another one.
REOPEN_SECONDS = 8.0


@dataclass
class Script:
    lead_id: int
    sent: str = field(default_factory=lambda: f"sent-{uuid.uuid4().hex}")
    note: str = field(default_factory=lambda: f"note-{uuid.uuid4().hex}")
    opens: list[str] = field(default_factory=list)
    # 0: nothing accepted yet; 1: the email and the note accepted; 2: its chain completed.
    step: int = 0
    last_open_at: float = 0.0
    # An open posted without an answer yet: retried under its id until accepted.
    open_unanswered: str | None = None
    # When the email and the note happened: a retry repeats the same body, or the API
    # would refuse it as another request under the same event id.
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    open_at: str = ""

    @property
    def event_ids(self) -> list[str]:
        return [self.sent, self.note, *self.opens]

    @property
    def signalled_ids(self) -> list[str]:
        """The events its workflow hears of: the note stays on the lead's record only."""
        return [self.sent, *self.opens]

    @property
    def opens_maybe_accepted(self) -> list[str]:
        """The opens accepted, and one posted without an answer, which may have been: an API
        killed after its commit ends its chain's wait all the same."""
        return [*self.opens, *([self.open_unanswered] if self.open_unanswered else [])]


def activity(event_id: str, type_: str, lead_id: int, at: str) -> dict[str, Any]:
    return {"event_id": event_id, "type": type_, "occurred_at": at, "lead_id": lead_id}


@dataclass
class Load:
    api_urls: list[str]
    token: str
    sessions: SessionFactory
    tally: Counter[str] = field(default_factory=Counter)
    accepted: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._next_api = itertools.cycle(range(len(self.api_urls)))

    async def run(self, scripts: list[Script], release_seconds: float, deadline: float) -> None:
        """Release the leads' first step evenly over `release_seconds`, and go on until every
        script is accepted or `deadline` (a monotonic time) passes."""
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as http:
            while time.monotonic() < deadline and any(s.step < 2 for s in scripts):
                share = min(1.0, (time.monotonic() - started) / release_seconds)
                released = scripts[: max(1, round(share * len(scripts)))]
                due = [s for s in released if s.step == 0][:BATCH_LEADS]
                if due:
                    await self._first_step(http, due)
                waiting, completed = await self._chains([s for s in scripts if s.step == 1])
                for script in completed:
                    script.step = 2
                for script in waiting:
                    if time.monotonic() - script.last_open_at > REOPEN_SECONDS:
                        await self._open(http, script)
                await asyncio.sleep(TICK_SECONDS)

    async def _first_step(self, http: httpx.AsyncClient, due: list[Script]) -> None:
        items = []
        for s in due:
            items.append(activity(s.sent, "email_sent", s.lead_id, s.at))
            items.append(activity(s.note, "note", s.lead_id, s.at))
        body = await self._post(http, "/v1/activities:batch", {"activities": items})
        if body is None:
            return
        statuses = [r["status"] for r in body["results"]]
        pairs = zip(statuses[0::2], statuses[1::2], strict=True)
        for s, pair in zip(due, pairs, strict=True):
            if pair == (202, 202):
                s.step = 1
                self.accepted.update((s.sent, s.note))
            else:
                self.tally[f"batch item refused {pair}"] += 1

    async def _open(self, http: httpx.AsyncClient, s: Script) -> None:
        # A post left unanswered may have been accepted: it is retried with the same id.
        if s.open_unanswered is None:
            s.open_unanswered = f"open-{uuid.uuid4().hex}"
            s.open_at = datetime.now(UTC).isoformat()
        event_id = s.open_unanswered
        body = activity(event_id, "email_open", s.lead_id, s.open_at)
        if await self._post(http, "/v1/activities", body):
            if s.opens:
                self.tally["opens sent again"] += 1
            s.opens.append(event_id)
            s.open_unanswered = None
            s.last_open_at = time.monotonic()
            self.accepted.add(event_id)

    async def _post(self, http: httpx.AsyncClient, path: str, body: Any) -> Any:
        """The accepted body, or None after a failure that a retry may cure (counted)."""
        url = self.api_urls[next(self._next_api)] + path
        self.tally["requests"] += 1
        try:
            response = await http.post(
                url, json=body, headers={"Authorization": f"Bearer {self.token}"}
            )
        except httpx.HTTPError as err:
            self.tally[f"no answer ({type(err).__name__})"] += 1
            return None
        if response.status_code != 202:
            self.tally[f"answered {response.status_code}"] += 1
            return None
        return response.json()

    async def _chains(self, scripts: list[Script]) -> tuple[list[Script], list[Script]]:
        """Those whose chain waits for an open, and those whose chain completed, as a user
        sees them in the lead's runs; none while the database is down."""
        if not scripts:
            return [], []
        try:
            async with self.sessions() as session:
                rows = (
                    await session.execute(
                        select(ChainRun.lead_id, ChainRun.status, ChainStep.status)
                        .outerjoin(
                            ChainStep,
                            (ChainStep.run_id == ChainRun.id) & (ChainStep.type == "delay"),
                        )
                        .where(ChainRun.lead_id.in_([s.lead_id for s in scripts]))
                    )
                ).all()
        except (SQLAlchemyError, OSError):
            return [], []
        waiting = {lead for lead, _, step in rows if step == "waiting"}
        completed = {lead for lead, run, _ in rows if run == "completed"}
        return (
            [s for s in scripts if s.lead_id in waiting],
            [s for s in scripts if s.lead_id in completed],
        )
