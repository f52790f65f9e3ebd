"""Chain side effects are idempotent on `<workflow id>/<action id>/<seq>`: a repeat under one key
makes no second task, deal, owner change or webhook POST. Webhooks go to a real local server."""

import hashlib
import hmac
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from db.engine import SessionFactory
from db.models import Deal, Lead, Task
from domain.chains import (
    AssignOwnerConfig,
    CreateDealConfig,
    NotifyOwnerConfig,
    SetPropertyConfig,
    WebhookConfig,
)
from domain.errors import Conflict, Unavailable
from services import chain_effects
from services.chain_context import build_context
from tests.integration.webhook_receiver import Receiver


def key() -> str:
    return f"chain-{uuid.uuid4().hex}/a_00000001/0"


async def count(session_factory: SessionFactory, model: Any, *where: Any) -> int:
    async with session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


class TestWebhook:
    async def test_a_retry_after_success_does_not_post_again_and_the_body_is_signed(
        self, make_lead, session_factory, receiver: Receiver, webhook_http
    ) -> None:
        lead = await make_lead(label="hot")
        k = key()
        config = WebhookConfig.model_validate(
            {"url": receiver.url, "secret": "s3cret-key", "payload": {"campaign": "spring"}}
        )
        async with session_factory() as session:
            first = await chain_effects.call_webhook(
                session, k, lead["id"], config, default_secret=None, http=webhook_http
            )
            again = await chain_effects.call_webhook(
                session, k, lead["id"], config, default_secret=None, http=webhook_http
            )
        assert first == again == {"status_code": 200, "attempts": 1}
        assert len(receiver.calls) == 1
        headers, body = receiver.calls[0]
        expected = hmac.new(b"s3cret-key", body, hashlib.sha256).hexdigest()
        assert headers["X-Leadpipe-Signature"] == f"sha256={expected}"
        assert headers["X-Leadpipe-Idempotency-Key"] == k
        sent = json.loads(body)
        assert sent["lead"]["label"] == "hot" and sent["contact"]["first_name"] == "Jo"
        assert sent["data"] == {"campaign": "spring"}

    async def test_server_errors_are_retried_then_succeed(
        self, make_lead, session_factory, receiver: Receiver, webhook_http
    ) -> None:
        lead = await make_lead()
        receiver.statuses = [503, 500]
        config = WebhookConfig.model_validate({"url": receiver.url, "retries": 2})
        async with session_factory() as session:
            result = await chain_effects.call_webhook(
                session,
                key(),
                lead["id"],
                config,
                default_secret="env-secret",
                http=webhook_http,
                backoff_seconds=0,
            )
        assert result == {"status_code": 200, "attempts": 3}
        headers, body = receiver.calls[-1]
        expected = hmac.new(b"env-secret", body, hashlib.sha256).hexdigest()
        assert headers["X-Leadpipe-Signature"] == f"sha256={expected}"

    async def test_still_failing_after_the_retries_is_transient_and_retried_later(
        self, make_lead, session_factory, receiver: Receiver, webhook_http
    ) -> None:
        lead = await make_lead()
        receiver.statuses = [502, 502]
        k = key()
        config = WebhookConfig.model_validate({"url": receiver.url, "retries": 1})
        async with session_factory() as session:
            with pytest.raises(Unavailable):
                await chain_effects.call_webhook(
                    session,
                    k,
                    lead["id"],
                    config,
                    default_secret="x" * 8,
                    http=webhook_http,
                    backoff_seconds=0,
                )
            # The activity's next attempt POSTs again and counts every try.
            result = await chain_effects.call_webhook(
                session,
                k,
                lead["id"],
                config,
                default_secret="x" * 8,
                http=webhook_http,
                backoff_seconds=0,
            )
        assert result == {"status_code": 200, "attempts": 3}

    async def test_a_client_error_is_a_refusal_without_retries(
        self, make_lead, session_factory, receiver: Receiver, webhook_http
    ) -> None:
        lead = await make_lead()
        receiver.statuses = [400]
        config = WebhookConfig.model_validate({"url": receiver.url, "retries": 3})
        async with session_factory() as session:
            with pytest.raises(Conflict):
                await chain_effects.call_webhook(
                    session,
                    key(),
                    lead["id"],
                    config,
                    default_secret="x" * 8,
                    http=webhook_http,
                    backoff_seconds=0,
                )
        assert len(receiver.calls) == 1

    async def test_no_secret_anywhere_is_refused(
        self, make_lead, session_factory, webhook_http
    ) -> None:
        lead = await make_lead()
        config = WebhookConfig.model_validate({"url": "http://127.0.0.1:9/none"})
        async with session_factory() as session:
            with pytest.raises(Conflict):
                await chain_effects.call_webhook(
                    session, key(), lead["id"], config, default_secret=None, http=webhook_http
                )


class TestRecordEffects:
    async def test_set_property_acts_once_per_key(self, make_lead, session_factory) -> None:
        lead = await make_lead(label="hot")
        k = key()
        async with session_factory() as session:
            first = await chain_effects.set_property(
                session, k, lead["id"], SetPropertyConfig(property="lead.label", value="cold")
            )
            again = await chain_effects.set_property(
                session, k, lead["id"], SetPropertyConfig(property="lead.label", value="warm")
            )
            context = await build_context(session, lead["id"])
        assert first == again == {"property": "lead.label", "from": "hot", "to": "cold"}
        assert context.lead["label"] == "cold"

    async def test_contact_properties_change_on_the_leads_contact(
        self, make_lead, session_factory
    ) -> None:
        lead = await make_lead()
        config = SetPropertyConfig(property="contact.lifecycle_stage", value="opportunity")
        async with session_factory() as session:
            result = await chain_effects.set_property(session, key(), lead["id"], config)
            context = await build_context(session, lead["id"])
        assert result["to"] == "opportunity"
        assert context.contact["lifecycle_stage"] == "opportunity"

    async def test_create_deal_makes_one_deal_and_links_it_to_the_lead(
        self, make_lead, session_factory
    ) -> None:
        lead = await make_lead()
        k = key()
        config = CreateDealConfig.model_validate({"amount": "1200", "close_in": "P30D"})
        async with session_factory() as session:
            first = await chain_effects.create_deal(session, k, lead["id"], config)
            again = await chain_effects.create_deal(session, k, lead["id"], config)
            stored = await session.get(Lead, lead["id"])
            deal = await session.get(Deal, first["deal_id"])
        assert first == again
        assert await count(session_factory, Deal, Deal.idempotency_key == k) == 1
        assert stored is not None and stored.deal_id == first["deal_id"]
        assert deal is not None and deal.name == lead["name"] and deal.lead_id == lead["id"]
        assert deal.contact_id == lead["contact_id"]

    async def test_assign_owner_acts_once_and_respects_only_if_unassigned(
        self, make_user, make_lead, session_factory
    ) -> None:
        first_owner, _ = await make_user("sales_user", seat="current")
        second_owner, _ = await make_user("sales_user", seat="current")
        lead = await make_lead()
        k = key()
        async with session_factory() as session:
            assigned = await chain_effects.assign_owner(
                session, k, lead["id"], AssignOwnerConfig(user_id=first_owner["id"])
            )
            repeat = await chain_effects.assign_owner(
                session, k, lead["id"], AssignOwnerConfig(user_id=second_owner["id"])
            )
            kept = await chain_effects.assign_owner(
                session,
                key(),
                lead["id"],
                AssignOwnerConfig(user_id=second_owner["id"], only_if_unassigned=True),
            )
        assert assigned == repeat
        assert assigned == {
            "owner_id": first_owner["id"],
            "previous_owner_id": None,
            "changed": True,
        }
        assert kept["owner_id"] == first_owner["id"] and kept["changed"] is False

    async def test_notify_owner_makes_one_todo_for_the_owner(
        self, make_user, make_lead, session_factory
    ) -> None:
        owner, _ = await make_user("sales_user", seat="current")
        lead = await make_lead(owner_id=owner["id"])
        k = key()
        config = NotifyOwnerConfig(message="{{lead.name}} reached the stage")
        async with session_factory() as session:
            first = await chain_effects.notify_owner(session, k, lead["id"], config)
            again = await chain_effects.notify_owner(session, k, lead["id"], config)
            task = await session.get(Task, first["task_id"])
        assert first == again
        assert task is not None and task.owner_id == owner["id"] and task.type == "todo"
        assert task.title == f"{lead['name']} reached the stage"

    async def test_notify_without_an_owner_is_skipped(self, make_lead, session_factory) -> None:
        lead = await make_lead()
        async with session_factory() as session:
            result = await chain_effects.notify_owner(
                session, key(), lead["id"], NotifyOwnerConfig(message="hi")
            )
        assert result == {"skipped": "the lead has no owner"}
