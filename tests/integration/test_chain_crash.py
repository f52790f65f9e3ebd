"""A chain survives its worker being killed: exactly one effect per action; a lead whose
worker dies inside a stage change moves within seconds.

The worker runs as a separate process (`python worker.py`) on a task queue of this module's
own, against the real dev server and database; the API in this process talks to that queue.
SIGKILL hits it inside an action (a webhook whose receiver is slow to answer) and between
steps (a delay waiting for an email reply); a new worker process then finishes the chain.
Database effects happen once per action; the webhook, at least once by nature, is called
again with the same idempotency key so its receiver can drop the repeat. A worker that kills
itself between sending an email and recording it (`LEADPIPE_FAULT_POINT=after_email_send`)
leaves one message in the mail log; over SMTP the retry resends it with the same Message-ID.
One killed inside a step's commit (`before_chain_step_commit`) leaves neither the effect nor
the step's outcome.
"""

import asyncio
import mailbox
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from config import Settings
from db.engine import SessionFactory
from db.models import ChainEffect, Deal, DealStageChange, EmailOutboxMessage, Lead, Task
from services.email import message_id
from services.orchestrator import Orchestrator
from tests.integration.eventually import eventually
from tests.integration.test_email import Inbox, free_port
from tests.stack import Api

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = "crash-test-secret"
WORKER_READY_SECONDS = 20.0
# A killed attempt is retried after the heartbeat timeout (10 s); a workflow task that went to
# the dead worker's sticky queue moves on after a few seconds more.
RECOVERY_SECONDS = 40.0
# A stage change heartbeats (timeout 5 s) and a dead worker's sticky queue is given up after 3 s:
# the move answers in about 9 s (40 s before), the new worker's start included.
STAGE_CHANGE_RECOVERY_SECONDS = 20.0


class WorkerProcess:
    """`python worker.py` on the test's queue, its output in a file for when a test fails."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self._env = env
        self._log_dir = log_dir
        self._started = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, **extra_env: str) -> None:
        assert self.process is None or self.process.poll() is not None
        self._started += 1
        self.log = self._log_dir / f"worker-{self._started}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "worker.py"],
                cwd=REPO_ROOT,
                env={**self._env, **extra_env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def ready(self) -> None:
        """Until the worker says it polls its queue."""
        await eventually(self._says_started, bool, timeout=WORKER_READY_SECONDS)
        assert self._says_started_now(), self.output()

    async def _says_started(self) -> bool:
        return self._says_started_now()

    def _says_started_now(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the worker exited:\n{self.output()}")
        return "worker started" in self.output()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def died(self, timeout: float) -> int | None:
        """Until the process ends by itself; returns its exit status (-9: SIGKILL)."""
        assert self.process is not None
        process = self.process

        async def status() -> int | None:
            return process.poll()

        return await eventually(status, lambda code: code is not None, timeout=timeout)

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, no heartbeat or completion sent."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def worker(
    database_url: str, dev_server_env: WorkflowEnvironment, crash_settings: Settings, tmp_path: Path
) -> Iterator[WorkerProcess]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LEADPIPE_TEMPORAL_ADDRESS": dev_server_env.client.service_client.config.target_host,
        "LEADPIPE_TASK_QUEUE": crash_settings.task_queue,
        "LEADPIPE_DATA_DIR": str(crash_settings.data_dir),
        "LEADPIPE_LOG_JSON": "false",
        "LEADPIPE_WEBHOOK_ALLOWED_HOSTS": ",".join(crash_settings.webhook_allowed_hosts),
    }
    process = WorkerProcess(env, tmp_path)
    try:
        yield process
    finally:
        process.kill()


@pytest.fixture(scope="module")
def crash_settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        task_queue=f"leadpipe-crash-{uuid.uuid4().hex[:8]}",
        data_dir=tmp_path_factory.mktemp("crash-data"),
        log_json=False,
        webhook_allowed_hosts=["127.0.0.1"],  # the slow receiver
    )


@pytest.fixture(scope="module")
async def crash_api(
    crash_settings: Settings,
    session_factory: SessionFactory,
    dev_server_env: WorkflowEnvironment,
    admin_token: str,
) -> AsyncIterator[Api]:
    """The API in-process on the worker's queue; no in-process worker."""
    application = create_app(crash_settings)
    application.state.settings = crash_settings
    application.state.session_factory = session_factory
    application.state.orchestrator = Orchestrator(
        dev_server_env.client, crash_settings.task_queue, crash_settings.lead_history_limit
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://leadpipe"
    ) as client:
        yield Api(client, admin_token)


class SlowReceiver:
    """A local webhook receiver that records each POST on arrival and answers the first one
    only after `first_delay` seconds: long enough to kill the worker while it waits."""

    def __init__(self, first_delay: float) -> None:
        self.calls: list[dict[str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append(dict(self.headers.items()))
                if len(receiver.calls) == 1:
                    time.sleep(first_delay)
                try:
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(b'{"ok": true}')
                except OSError:
                    pass  # the caller was killed meanwhile

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def receiver() -> Iterator[SlowReceiver]:
    r = SlowReceiver(first_delay=3.0)
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()


async def count(session_factory: SessionFactory, model: Any, lead_id: int) -> int:
    async with session_factory() as session:
        query = select(func.count()).select_from(model).where(model.lead_id == lead_id)
        return int(await session.scalar(query) or 0)


async def task_titles(session_factory: SessionFactory, lead_id: int) -> list[str]:
    async with session_factory() as session:
        rows = await session.scalars(select(Task.title).where(Task.lead_id == lead_id))
        return sorted(rows.all())


async def runs_of(api: Api, lead_id: int) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = (await api.ok("get", f"/leads/{lead_id}/chains"))["items"]
    return runs


async def wait_for_run(api: Api, lead_id: int, status: str, timeout: float) -> dict[str, Any]:
    runs = await eventually(
        lambda: runs_of(api, lead_id),
        lambda rs: [r["status"] for r in rs] == [status],
        timeout=timeout,
    )
    assert [r["status"] for r in runs] == [status], runs
    return runs[0]


async def lead_entering_a_chain(
    api: Api, actions: list[dict[str, Any]]
) -> tuple[int, dict[str, Any]]:
    """A new pipeline whose second stage has this chain, and an owned lead with a contact
    that has an email address, moved into that stage -> (lead id, saved chain)."""
    stages = [
        {"label": "New", "kind": "open"},
        {"label": "Working", "kind": "open"},
        {"label": "Won", "kind": "qualified"},
        {"label": "Lost", "kind": "disqualified"},
    ]
    pipeline = await api.ok(
        "post",
        "/pipelines",
        {"object": "lead", "label": f"Crash {uuid.uuid4().hex[:8]}", "stages": stages},
        status=201,
    )
    new, working = (s["id"] for s in pipeline["stages"][:2])
    saved = await api.ok(
        "put", f"/pipelines/{pipeline['id']}/stages/{working}/chain", {"actions": actions}
    )
    owner = await api.ok(
        "post",
        "/users",
        {
            "email": f"{uuid.uuid4().hex[:10]}@example.com",
            "name": "Owner",
            "role": "sales_user",
            "seat": "current",
        },
        status=201,
    )
    contact = await api.ok(
        "post",
        "/contacts",
        {"first_name": "Kim", "email": f"kim-{uuid.uuid4().hex[:8]}@example.com"},
        status=201,
    )
    lead = await api.ok(
        "post",
        "/leads",
        {
            "contact_id": contact["id"],
            "owner_id": owner["id"],
            "pipeline_id": pipeline["id"],
            "stage_id": new,
        },
        status=201,
    )
    await api.ok("post", f"/leads/{lead['id']}/stage", {"stage_id": working})
    return lead["id"], saved


def task(title: str) -> dict[str, Any]:
    return {"type": "create_task", "config": {"title": title, "due_in": "P1D"}}


EMAIL = {"type": "send_email", "config": {"subject": "Hello", "body": "Hi {{contact.first_name}}"}}
DEAL = {"type": "create_deal", "config": {"name": "{{lead.name}} deal"}}


async def test_a_worker_killed_inside_a_webhook_call_leaves_one_effect_per_action(
    crash_api: Api, worker: WorkerProcess, receiver: SlowReceiver, session_factory
) -> None:
    worker.start()
    await worker.ready()
    hook = {"type": "webhook", "config": {"url": receiver.url, "secret": SECRET}}
    lead_id, saved = await lead_entering_a_chain(
        crash_api, [task("first"), EMAIL, hook, DEAL, task("last")]
    )
    # The receiver holds the first POST for seconds: the worker is inside the action.
    await eventually(lambda: _calls(receiver), lambda n: n >= 1, timeout=20)
    assert len(receiver.calls) == 1, worker.output()
    worker.kill()
    assert await task_titles(session_factory, lead_id) == ["first"]
    assert await count(session_factory, EmailOutboxMessage, lead_id) == 1

    worker.start()
    await worker.ready()
    run = await wait_for_run(crash_api, lead_id, "completed", RECOVERY_SECONDS)
    assert [(s["action_id"], s["status"]) for s in run["steps"]] == [
        (a["id"], "completed") for a in saved["actions"]
    ]
    # The webhook was called again after the crash, under the same key.
    key = f"{run['workflow_id']}/{saved['actions'][2]['id']}/1"
    assert [c["X-Leadpipe-Idempotency-Key"] for c in receiver.calls] == [key, key]
    # Everything else happened exactly once.
    assert await task_titles(session_factory, lead_id) == ["first", "last"]
    assert await count(session_factory, EmailOutboxMessage, lead_id) == 1
    assert await count(session_factory, Deal, lead_id) == 1


async def effect_kinds(session_factory: SessionFactory, lead_id: int) -> list[str]:
    """The kinds of the effects recorded under a key for the lead, one entry per key."""
    async with session_factory() as session:
        rows = await session.scalars(select(ChainEffect.kind).where(ChainEffect.lead_id == lead_id))
        return sorted(rows.all())


async def test_a_worker_killed_inside_a_chain_of_the_new_action_types_acts_once_each_act_2(
    crash_api: Api, worker: WorkerProcess, receiver: SlowReceiver, session_factory
) -> None:
    """Marketing and CRM-and-data actions before and after the action the worker dies in."""
    worker.start()
    await worker.ready()
    unique = uuid.uuid4().hex[:8]
    sequence = await crash_api.ok("post", "/sequences", {"name": f"Seq {unique}"}, status=201)
    contact_list = await crash_api.ok("post", "/lists", {"name": f"List {unique}"}, status=201)
    stages = [
        {"label": "Open", "kind": "open"},
        {"label": "Won", "kind": "won"},
        {"label": "Lost", "kind": "lost"},
    ]
    deals = await crash_api.ok(
        "post",
        "/pipelines",
        {"object": "deal", "label": f"D {unique}", "stages": stages},
        status=201,
    )
    won = deals["stages"][1]["id"]
    in_sequence = {"sequence_id": sequence["id"]}
    in_list = {"list_id": contact_list["id"]}
    hook = {"type": "webhook", "config": {"url": receiver.url, "secret": SECRET}}
    lead_id, saved = await lead_entering_a_chain(
        crash_api,
        [
            DEAL,
            {"type": "enroll_in_sequence", "config": in_sequence},
            {"type": "add_to_list", "config": in_list},
            {"type": "set_lead_label", "config": {"label": "hot"}},
            {"type": "copy_property", "config": {"from": "contact.first_name", "to": "lead.name"}},
            hook,
            {"type": "update_deal", "config": {"stage_id": won, "amount": "750"}},
            {"type": "unenroll_from_sequence", "config": in_sequence},
            {"type": "remove_from_list", "config": in_list},
        ],
    )
    await eventually(lambda: _calls(receiver), lambda n: n >= 1, timeout=20)
    worker.kill()

    worker.start()
    await worker.ready()
    run = await wait_for_run(crash_api, lead_id, "completed", RECOVERY_SECONDS)
    assert [(s["action_id"], s["status"]) for s in run["steps"]] == [
        (a["id"], "completed") for a in saved["actions"]
    ]
    results = [s["result"] for s in run["steps"]]
    assert results[1]["enrolled"] and results[2]["added"]
    assert results[7]["unenrolled"] and results[8]["removed"]
    assert await effect_kinds(session_factory, lead_id) == sorted(
        a["type"] for a in saved["actions"] if a["type"] not in ("create_deal", "webhook")
    )
    async with session_factory() as session:
        lead = await session.get(Lead, lead_id)
        assert lead is not None and lead.label == "hot" and lead.name == "Kim"
        deal = await session.get(Deal, lead.deal_id)
        assert deal is not None and deal.stage_id == won and str(deal.amount) == "750.00"
        moves = await session.scalar(select(func.count()).where(DealStageChange.deal_id == deal.id))
    assert moves == 1
    assert (await crash_api.ok("get", f"/lists/{contact_list['id']}/members"))["items"] == []


async def test_a_worker_killed_while_a_chain_waits_leaves_one_effect_per_action(
    crash_api: Api, worker: WorkerProcess, session_factory
) -> None:
    worker.start()
    await worker.ready()
    wait = {"type": "delay", "config": {"until_event": "email_reply", "timeout": "P1D"}}
    lead_id, saved = await lead_entering_a_chain(
        crash_api, [task("before"), wait, task("after"), DEAL]
    )
    delay_id = saved["actions"][1]["id"]

    def waiting(runs: list[dict[str, Any]]) -> bool:
        return bool(runs) and any(
            s["action_id"] == delay_id and s["status"] == "waiting" for s in runs[0]["steps"]
        )

    await eventually(lambda: runs_of(crash_api, lead_id), waiting, timeout=20)
    worker.kill()
    assert await task_titles(session_factory, lead_id) == ["before"]

    worker.start()
    await worker.ready()
    reply = {
        "event_id": f"ev-{uuid.uuid4().hex}",
        "type": "email_reply",
        "occurred_at": datetime.now(UTC).isoformat(),
        "lead_id": lead_id,
    }
    await crash_api.ok("post", "/activities", reply, status=202)
    run = await wait_for_run(crash_api, lead_id, "completed", RECOVERY_SECONDS)
    assert [(s["action_id"], s["status"]) for s in run["steps"]] == [
        (a["id"], "completed") for a in saved["actions"]
    ]
    assert run["steps"][1]["result"]["ended_by"] == "event"
    assert await task_titles(session_factory, lead_id) == ["after", "before"]
    assert await count(session_factory, Deal, lead_id) == 1


async def _calls(receiver: SlowReceiver) -> int:
    return len(receiver.calls)


async def test_a_worker_killed_inside_a_stage_change_moves_the_lead_within_seconds(
    crash_api: Api, worker: WorkerProcess, session_factory
) -> None:
    worker.start()
    await worker.ready()
    stages = [
        {"label": "New", "kind": "open"},
        {"label": "Working", "kind": "open"},
        {"label": "Won", "kind": "qualified"},
        {"label": "Lost", "kind": "disqualified"},
    ]
    pipeline = await crash_api.ok(
        "post",
        "/pipelines",
        {"object": "lead", "label": f"Kill {uuid.uuid4().hex[:8]}", "stages": stages},
        status=201,
    )
    new, working = (s["id"] for s in pipeline["stages"][:2])
    contact = await crash_api.ok("post", "/contacts", {"first_name": "Kim"}, status=201)
    lead = await crash_api.ok(
        "post",
        "/leads",
        {"contact_id": contact["id"], "pipeline_id": pipeline["id"], "stage_id": new},
        status=201,
    )
    async with session_factory() as locker, locker.begin():
        # Holding the lead's row keeps the worker inside change_lead_stage.
        await locker.execute(select(Lead.id).where(Lead.id == lead["id"]).with_for_update())
        move = asyncio.create_task(
            crash_api.post(f"/leads/{lead['id']}/stage", {"stage_id": working})
        )
        await eventually(lambda: _lock_waiters(locker), lambda n: n >= 1, timeout=20)
        assert await _lock_waiters(locker) >= 1, worker.output()
        worker.kill()
        killed_at = time.monotonic()
    worker.start()
    response = await asyncio.wait_for(move, RECOVERY_SECONDS)
    answered_after = time.monotonic() - killed_at
    assert response.status_code == 200, response.text
    assert response.json()["stage_id"] == working
    assert await _stage_of(session_factory, lead["id"]) == working
    assert answered_after < STAGE_CHANGE_RECOVERY_SECONDS, f"moved {answered_after:.1f} s after"


async def _lock_waiters(session: Any) -> int:
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    return int(await session.scalar(query) or 0)


async def _stage_of(session_factory: SessionFactory, lead_id: int) -> int | None:
    async with session_factory() as session:
        stage: int | None = await session.scalar(select(Lead.stage_id).where(Lead.id == lead_id))
        return stage


async def test_a_worker_killed_before_a_steps_commit_leaves_neither_its_effect_nor_its_outcome(
    crash_api: Api, worker: WorkerProcess, session_factory
) -> None:
    """A database effect commits with its step's outcome: killed between the two writes and
    the commit, the worker leaves the step `running` and no task; the retry makes it once."""
    worker.start(LEADPIPE_FAULT_POINT="before_chain_step_commit")
    await worker.ready()
    lead_id, saved = await lead_entering_a_chain(crash_api, [task("first"), task("second")])
    assert await worker.died(timeout=30) == -signal.SIGKILL, worker.output()
    (run,) = await runs_of(crash_api, lead_id)
    assert [(s["action_id"], s["status"]) for s in run["steps"]] == [
        (saved["actions"][0]["id"], "running")
    ]
    assert await task_titles(session_factory, lead_id) == []

    worker.start()
    await worker.ready()
    run = await wait_for_run(crash_api, lead_id, "completed", RECOVERY_SECONDS)
    assert [(s["action_id"], s["status"]) for s in run["steps"]] == [
        (a["id"], "completed") for a in saved["actions"]
    ]
    assert await task_titles(session_factory, lead_id) == ["first", "second"]
    assert run["steps"][0]["result"]["task_id"] in await task_ids(session_factory, lead_id)


async def task_ids(session_factory: SessionFactory, lead_id: int) -> list[int]:
    async with session_factory() as session:
        return list((await session.scalars(select(Task.id).where(Task.lead_id == lead_id))).all())


FAULT = {"LEADPIPE_FAULT_POINT": "after_email_send"}


async def email_row(session_factory: SessionFactory, lead_id: int) -> EmailOutboxMessage:
    async with session_factory() as session:
        rows = (
            await session.scalars(
                select(EmailOutboxMessage).where(EmailOutboxMessage.lead_id == lead_id)
            )
        ).all()
    assert len(rows) == 1, rows
    return rows[0]


def sends_in_mail_log(settings: Settings, key: str) -> int:
    path = settings.data_dir / "mail.log"
    if not path.exists():
        return 0
    return sum(m["X-Leadpipe-Idempotency-Key"] == key for m in mailbox.mbox(path, create=False))


async def killed_after_sending_an_email(
    api: Api, worker: WorkerProcess, session_factory: SessionFactory, **env: str
) -> tuple[int, str]:
    """A chain [email, task] run by a worker that kills itself once the email is handed over
    -> (lead id, the email's key)."""
    worker.start(**env, **FAULT)
    await worker.ready()
    lead_id, saved = await lead_entering_a_chain(api, [EMAIL, task("after")])
    assert await worker.died(timeout=30) == -signal.SIGKILL, worker.output()
    (run,) = await runs_of(api, lead_id)
    row = await email_row(session_factory, lead_id)
    assert row.status == "sending"  # handed over, never recorded as sent
    assert row.idempotency_key == f"{run['workflow_id']}/{saved['actions'][0]['id']}/1"
    return lead_id, row.idempotency_key


async def test_a_worker_killed_between_sending_an_email_and_recording_it_writes_it_once(
    crash_api: Api, worker: WorkerProcess, crash_settings: Settings, session_factory
) -> None:
    lead_id, key = await killed_after_sending_an_email(crash_api, worker, session_factory)
    assert sends_in_mail_log(crash_settings, key) == 1

    worker.start()
    await worker.ready()
    run = await wait_for_run(crash_api, lead_id, "completed", RECOVERY_SECONDS)
    assert [s["status"] for s in run["steps"]] == ["completed", "completed"]
    # The retry found the email in the log: one message under its key, now recorded as sent.
    assert sends_in_mail_log(crash_settings, key) == 1
    row = await email_row(session_factory, lead_id)
    assert row.status == "sent" and row.attempts == 2
    assert await task_titles(session_factory, lead_id) == ["after"]


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[str, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", inbox
    finally:
        controller.stop()


async def test_over_smtp_a_worker_killed_after_sending_resends_with_the_same_message_id(
    crash_api: Api,
    worker: WorkerProcess,
    crash_settings: Settings,
    session_factory,
    smtp_inbox: tuple[str, Inbox],
) -> None:
    url, inbox = smtp_inbox
    lead_id, key = await killed_after_sending_an_email(
        crash_api, worker, session_factory, LEADPIPE_SMTP_URL=url
    )
    assert len(inbox.messages) == 1

    worker.start(LEADPIPE_SMTP_URL=url)
    await worker.ready()
    await wait_for_run(crash_api, lead_id, "completed", RECOVERY_SECONDS)
    # SMTP cannot tell whether the first hand-off arrived: at most one copy more, and every
    # copy carries the Message-ID derived from the key, by which the receiver drops it.
    assert 1 <= len(inbox.messages) <= 2
    expected = message_id(key, crash_settings.mail_from.split("@")[1])
    assert {m["Message-ID"] for m in inbox.messages} == {expected}
    assert {m["X-Leadpipe-Idempotency-Key"] for m in inbox.messages} == {key}
    assert (await email_row(session_factory, lead_id)).status == "sent"
    assert sends_in_mail_log(crash_settings, key) == 0
