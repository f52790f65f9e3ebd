"""Stage-chain webhooks and emails as an attacker or a curious reader would try them, through
HTTP and real runs: internal webhook targets are refused when saved and when connecting,
secrets stay out of Temporal histories, non-admins see no credentials or SQL, and a failed
email is a failed step."""

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text, update
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from config import Settings
from db.engine import SessionFactory
from db.models import Contact, EmailOutboxMessage
from services import chain_runs
from services.orchestrator import Orchestrator
from tests.integration.test_chains_end_to_end import mail_log, move, wait_for_runs
from tests.integration.webhook_receiver import Receiver
from tests.stack import Api, MakePipeline, MakeUser
from worker import build_worker

SECRET = "exposure-secret-4f1c9a"
TOKEN = "tok-9d2e7a61"


def hook(url: str, **config: Any) -> dict[str, Any]:
    return {"type": "webhook", "config": {"url": url, **config}}


def in_branch(*actions: dict[str, Any]) -> dict[str, Any]:
    condition = {"property": "lead.label", "op": "eq", "value": "hot"}
    return {"type": "branch", "config": {"if": condition, "then": list(actions)}}


def app_api(
    settings: Settings, session_factory: SessionFactory, client: Any, token: str
) -> tuple[Any, httpx.AsyncClient]:
    application = create_app(settings)
    application.state.settings = settings
    application.state.session_factory = session_factory
    application.state.orchestrator = Orchestrator(
        client, settings.task_queue, settings.lead_history_limit
    )
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://leadpipe"
    )
    return application, http


@pytest.fixture(scope="module")
async def strict_api(
    settings: Settings,
    session_factory: SessionFactory,
    dev_server_env: WorkflowEnvironment,
    admin_token: str,
) -> AsyncIterator[Api]:
    """The API as deployed without an allow-list: loopback is as internal as the rest."""
    strict = settings.model_copy(update={"webhook_allowed_hosts": []})
    _, http = app_api(strict, session_factory, dev_server_env.client, admin_token)
    async with http:
        yield Api(http, admin_token)


@pytest.fixture(scope="module")
async def rebinding_api(
    settings: Settings,
    session_factory: SessionFactory,
    dev_server_env: WorkflowEnvironment,
    admin_token: str,
) -> AsyncIterator[Api]:
    """An API that accepted a webhook target (as if its name resolved to a public address at
    save time) and a worker of its own on which the target now resolves to loopback."""
    queue = f"leadpipe-strict-{uuid.uuid4().hex[:8]}"
    api_settings = settings.model_copy(update={"task_queue": queue})
    worker_settings = api_settings.model_copy(update={"webhook_allowed_hosts": []})
    worker = build_worker(dev_server_env.client, worker_settings, session_factory)
    _, http = app_api(api_settings, session_factory, dev_server_env.client, admin_token)
    async with worker, http:
        yield Api(http, admin_token)


class Stage:
    """The Working stage of a fresh lead pipeline, where each test saves its chain."""

    def __init__(self, pipeline: dict[str, Any]) -> None:
        self.pipeline_id: int = pipeline["id"]
        self.new, self.working = (s["id"] for s in pipeline["stages"][:2])
        self.path = f"/pipelines/{self.pipeline_id}/stages/{self.working}/chain"


@pytest.fixture
async def stage(make_pipeline: MakePipeline) -> Stage:
    return Stage(await make_pipeline())


def error_fields(response: httpx.Response) -> list[tuple[str, str]]:
    return [(e["field"], e["rule"]) for e in response.json().get("errors", [])]


class TestSaveTimeTargets:
    @pytest.mark.parametrize(
        "url",
        [
            "http://169.254.169.254/latest/meta-data/iam/",
            "http://127.0.0.1:5432",
            "http://[::1]:8900/v1/users",
            "http://0x7f000001/",
            "http://2130706433/",
            "http://10.0.0.8/hook",
            "http://192.168.1.10/",
            "http://[fd00::1]/",
            "http://[::ffff:169.254.169.254]/",
            "http://224.0.0.1/",
            "http://0.0.0.0:8000/",
            "http://localhost:8000/",
            "http://metadata.google.internal/computeMetadata/v1/",
        ],
    )
    async def test_a_webhook_to_an_internal_target_is_a_422_naming_its_url_field(
        self, strict_api: Api, stage: Stage, url: str
    ) -> None:
        path = stage.path
        body = {
            "actions": [{"type": "delay", "config": {"duration": "PT1M"}}, in_branch(hook(url))]
        }
        response = await strict_api.put(path, body)
        assert response.status_code == 422, response.text
        assert error_fields(response) == [("actions.1.config.then.0.config.url", "public_address")]
        assert "is not a public address" in response.json()["errors"][0]["message"]
        assert (await strict_api.ok("get", path))["version"] == 0

    async def test_inserting_or_patching_in_an_internal_target_is_refused_too(
        self, strict_api: Api, stage: Stage
    ) -> None:
        path = stage.path
        saved = await strict_api.ok("put", path, {"actions": [hook("https://hooks.example/in")]})
        inserted = await strict_api.post(
            f"{path}/actions", {"action": hook("http://169.254.169.254/")}
        )
        assert inserted.status_code == 422
        assert error_fields(inserted) == [("actions.1.config.url", "public_address")]
        action_id = saved["actions"][0]["id"]
        patched = await strict_api.patch(
            f"{path}/actions/{action_id}", {"config": {"url": "http://10.1.1.1/"}}
        )
        assert patched.status_code == 422
        assert error_fields(patched) == [("actions.0.config.url", "public_address")]
        assert (await strict_api.ok("get", path))["version"] == saved["version"]

    async def test_public_names_and_allow_listed_addresses_are_saved(
        self, admin: Api, strict_api: Api, stage: Stage
    ) -> None:
        path = stage.path
        await strict_api.ok("put", path, {"actions": [hook("https://hooks.example.com/in")]})
        # The test settings list 127.0.0.1, as an on-premise deployment lists its receivers.
        await admin.ok("put", path, {"actions": [hook("http://127.0.0.1:9/in")]})
        still = await strict_api.put(path, {"actions": [hook("http://127.0.0.2:9/in")]})
        assert still.status_code == 422


class TestConnectTimeTargets:
    async def test_a_target_that_now_is_loopback_fails_its_step_and_gets_nothing(
        self,
        rebinding_api: Api,
        stage: Stage,
        receiver: Receiver,
        session_factory: SessionFactory,
    ) -> None:
        path = stage.path
        after = {"type": "create_task", "config": {"title": "after the webhook"}}
        await rebinding_api.ok(
            "put", path, {"actions": [hook(receiver.url, secret=SECRET, retries=3), after]}
        )
        contact = await rebinding_api.ok("post", "/contacts", {"first_name": "Jo"}, status=201)
        lead = await rebinding_api.ok(
            "post",
            "/leads",
            {"contact_id": contact["id"], "pipeline_id": stage.pipeline_id, "stage_id": stage.new},
            status=201,
        )
        await move(rebinding_api, lead["id"], stage.working)
        (run,) = await wait_for_runs(rebinding_api, lead["id"], ["failed"])
        (step,) = run["steps"]
        assert step["status"] == "failed"
        assert step["error"] == (
            "127.0.0.1 is not a public address (loopback); webhooks reach public hosts only, "
            "unless LEADPIPE_WEBHOOK_ALLOWED_HOSTS lists it"
        )
        assert receiver.calls == []


def decoded_history(history: Any) -> str:
    """The history as JSON plus every base64 value in it decoded: payloads are base64 there,
    so a secret in a payload would not show in the JSON as written."""
    text = history.to_json()
    found: list[str] = [text]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str):
            with contextlib.suppress(binascii.Error, UnicodeDecodeError):
                found.append(base64.b64decode(value, validate=True).decode("utf-8"))

    walk(json.loads(text))
    return "\n".join(found)


class TestWorkflowPayloads:
    async def test_a_webhook_secret_and_url_token_appear_nowhere_in_workflow_histories(
        self,
        admin: Api,
        stage: Stage,
        make_lead,
        receiver: Receiver,
        dev_server_env: WorkflowEnvironment,
    ) -> None:
        path = stage.path
        url = f"{receiver.url}?team=7&token={TOKEN}"
        saved = await admin.ok("put", path, {"actions": [hook(url, secret=SECRET)]})
        lead = await make_lead(pipeline_id=stage.pipeline_id, stage_id=stage.new)
        await move(admin, lead["id"], stage.working)
        (run,) = await wait_for_runs(admin, lead["id"], ["completed"])

        # The receiver got the real URL and a body signed with the real secret.
        (headers, body) = receiver.calls[0]
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Leadpipe-Signature"], expected)
        assert receiver.paths == [f"/hook?team=7&token={TOKEN}"]

        client = dev_server_env.client
        for workflow_id in (run["workflow_id"], f"lead-{lead['id']}"):
            text = decoded_history(await client.get_workflow_handle(workflow_id).fetch_history())
            # The search reads payloads: the action id and the masked URL are in them.
            assert saved["actions"][0]["id"] in text
            assert SECRET not in text and TOKEN not in text


class TestWhatNonAdminsSee:
    async def test_url_credentials_are_masked_for_non_admins_in_chains_and_dry_runs(
        self, admin: Api, make_user: MakeUser, stage: Stage, make_lead
    ) -> None:
        path = stage.path
        url = f"https://bot:pa55word@hooks.example.com/in?team=7&api_key={TOKEN}"
        await admin.ok("put", path, {"actions": [hook(url, secret=SECRET)]})
        lead = await make_lead()
        masked = "https://********:********@hooks.example.com/in?team=7&api_key=********"
        _, rep = await make_user("sales_user", seat="current")
        _, service = await make_user("service")

        as_admin = await admin.ok("get", path)
        assert as_admin["actions"][0]["config"]["url"] == url
        dry_admin = await admin.ok("post", f"{path}:dry-run", {"lead_id": lead["id"]})
        assert dry_admin["steps"][0]["details"]["url"] == url
        for reader in (rep, service):
            shown = await reader.ok("get", path)
            assert shown["actions"][0]["config"]["url"] == masked
            assert shown["actions"][0]["config"]["secret"] == "********"
            dry = await reader.ok("post", f"{path}:dry-run", {"lead_id": lead["id"]})
            assert dry["steps"][0]["details"]["url"] == masked
            assert TOKEN not in json.dumps(dry) and "pa55word" not in json.dumps(dry)

    async def test_urls_in_step_errors_are_masked_for_non_admins(
        self, admin: Api, make_user: MakeUser, make_lead, session_factory: SessionFactory
    ) -> None:
        lead = await make_lead()
        pipeline_id, stage_id = lead["pipeline_id"], lead["stage_id"]
        workflow_id = f"chain-{uuid.uuid4().hex}"
        error = f"could not reach https://hooks.example.com/in?token={TOKEN}"
        async with session_factory() as s:
            await chain_runs.start_run(s, workflow_id, lead["id"], pipeline_id, stage_id, 1)
            await chain_runs.record_step(
                s, workflow_id, "a_00000001", 1, "webhook", "failed", error=error
            )
        _, rep = await make_user("sales_user", seat="current")
        admin_steps = (await admin.ok("get", f"/leads/{lead['id']}/chains"))["items"][0]["steps"]
        rep_steps = (await rep.ok("get", f"/leads/{lead['id']}/chains"))["items"][0]["steps"]
        assert admin_steps[0]["error"] == error
        assert rep_steps[0]["error"] == (
            "could not reach https://hooks.example.com/in?token=********"
        )


class TestStepErrors:
    async def test_a_database_error_shows_what_failed_without_sql_and_fails_at_once(
        self,
        admin: Api,
        make_user: MakeUser,
        stage: Stage,
        make_lead,
        refusing_lead_name: str,
    ) -> None:
        path = stage.path
        rename = {
            "type": "set_property",
            "config": {"property": "lead.name", "value": refusing_lead_name},
        }
        await admin.ok("put", path, {"actions": [rename]})
        lead = await make_lead(pipeline_id=stage.pipeline_id, stage_id=stage.new)
        await move(admin, lead["id"], stage.working)
        # Final on the first attempt: retrying would fail the same way.
        (run,) = await wait_for_runs(admin, lead["id"], ["failed"], timeout=10)
        _, rep = await make_user("sales_user", seat="current")
        for reader in (admin, rep):
            (shown,) = (await reader.ok("get", f"/leads/{lead['id']}/chains"))["items"]
            (step,) = shown["steps"]
            assert (step["status"], step["error"]) == (
                "failed",
                "database error while setting the property",
            )
        assert run["steps"][0]["error"] == "database error while setting the property"


@pytest.fixture
async def refusing_lead_name(session_factory: SessionFactory) -> AsyncIterator[str]:
    """A lead name the API accepts and PostgreSQL refuses on every write (SQLSTATE 22023), as
    data the database cannot take would be: a trigger stands in for it."""
    name = f"refused-{uuid.uuid4().hex[:8]}"
    function = f"refuse_{name.replace('-', '_')}"
    async with session_factory() as session, session.begin():
        await session.execute(
            text(
                f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.name = '{name}' THEN RAISE EXCEPTION 'refused' USING ERRCODE = '22023'; "
                "END IF; RETURN NEW; END $$"
            )
        )
        await session.execute(
            text(
                f"CREATE TRIGGER {function} BEFORE UPDATE ON leads "
                f"FOR EACH ROW EXECUTE FUNCTION {function}()"
            )
        )
    try:
        yield name
    finally:
        async with session_factory() as session, session.begin():
            await session.execute(text(f"DROP TRIGGER {function} ON leads"))
            await session.execute(text(f"DROP FUNCTION {function}()"))


class TestEmailSteps:
    async def test_an_email_that_cannot_be_sent_fails_its_step_and_adds_no_header(
        self,
        admin: Api,
        stage: Stage,
        make_lead,
        session_factory: SessionFactory,
        settings: Settings,
    ) -> None:
        path = stage.path
        email = {
            "type": "send_email",
            "config": {"subject": "Hello {{contact.first_name}}", "body": "Hi"},
        }
        await admin.ok("put", path, {"actions": [email]})
        contact = await admin.ok(
            "post", "/contacts", {"first_name": "Ada", "email": "ada@example.com"}, status=201
        )
        # Bad data already stored (before the API refused it): a line break in the address.
        async with session_factory() as session, session.begin():
            await session.execute(
                update(Contact)
                .where(Contact.id == contact["id"])
                .values(email="ada@example.com\r\nBcc: evil@example.com")
            )
        lead = await make_lead(
            contact_id=contact["id"], pipeline_id=stage.pipeline_id, stage_id=stage.new
        )
        await move(admin, lead["id"], stage.working)
        (run,) = await wait_for_runs(admin, lead["id"], ["failed"], timeout=10)
        (step,) = run["steps"]
        assert step["status"] == "failed"
        assert step["error"].startswith("the email was not sent: the email cannot be built")
        async with session_factory() as session:
            row = await session.scalar(
                select(EmailOutboxMessage).where(EmailOutboxMessage.lead_id == lead["id"])
            )
        assert row is not None and row.status == "failed"
        assert "evil@example.com" not in mail_log(settings)

    async def test_a_line_break_in_a_name_stays_inside_the_subject(
        self,
        admin: Api,
        stage: Stage,
        make_lead,
        session_factory: SessionFactory,
        settings: Settings,
    ) -> None:
        path = stage.path
        email = {
            "type": "send_email",
            "config": {"subject": "Hello {{contact.first_name}}", "body": "Hi"},
        }
        await admin.ok("put", path, {"actions": [email]})
        address = f"ada-{uuid.uuid4().hex[:8]}@example.com"
        contact = await admin.ok(
            "post", "/contacts", {"first_name": "Ada", "email": address}, status=201
        )
        async with session_factory() as session, session.begin():
            await session.execute(
                update(Contact)
                .where(Contact.id == contact["id"])
                .values(first_name="Ada\r\nBcc: evil@example.com")
            )
        lead = await make_lead(
            contact_id=contact["id"], pipeline_id=stage.pipeline_id, stage_id=stage.new
        )
        await move(admin, lead["id"], stage.working)
        (run,) = await wait_for_runs(admin, lead["id"], ["completed"])
        assert run["steps"][0]["result"]["status"] == "sent"
        log = mail_log(settings)
        assert f"To: {address}" in log
        assert "Subject: Hello Ada Bcc: evil@example.com" in log
        assert "\nBcc:" not in log
