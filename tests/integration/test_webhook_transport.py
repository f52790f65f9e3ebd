"""The webhook client resolves each host itself, refuses non-public addresses among the
results (DNS rebinding, odd literal forms) and connects to an address it checked, keeping the
host name for the Host header, TLS SNI and the certificate check. Real local servers."""

import contextlib
import ssl
import threading
import uuid
from collections.abc import Iterator

import pytest
import trustme
from sqlalchemy import select

from db.models import WebhookCall
from domain.addresses import AllowList
from domain.chains import WebhookConfig
from domain.errors import InvalidInput
from services import chain_effects
from services.webhook_transport import RefusedTarget, webhook_client
from tests.integration.webhook_receiver import Receiver

LOOPBACK = AllowList.parse(["127.0.0.1", "::1"])


@contextlib.contextmanager
def serving(receiver: Receiver) -> Iterator[Receiver]:
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


class TestConnectTimeChecks:
    async def test_a_name_resolving_to_loopback_is_refused_before_any_byte_is_sent(
        self, receiver: Receiver
    ) -> None:
        async with webhook_client() as http:
            with pytest.raises(RefusedTarget, match=r"localhost \(resolved to 127\.0\.0\.1\)"):
                await http.post(f"http://localhost:{receiver.port}/hook", content=b"{}")
        assert receiver.calls == []

    @pytest.mark.parametrize(
        "host", ["127.0.0.1", "0x7f000001", "2130706433", "127.1", "[::ffff:127.0.0.1]"]
    )
    async def test_every_spelling_of_a_loopback_literal_is_refused(
        self, receiver: Receiver, host: str
    ) -> None:
        async with webhook_client() as http:
            with pytest.raises(RefusedTarget, match="loopback"):
                await http.post(f"http://{host}:{receiver.port}/hook", content=b"{}")
        assert receiver.calls == []

    async def test_an_allowed_address_is_reached_by_name_with_its_host_header(
        self, receiver: Receiver
    ) -> None:
        async with webhook_client(LOOPBACK) as http:
            response = await http.post(f"http://localhost:{receiver.port}/hook", content=b"{}")
        assert response.status_code == 200
        assert receiver.calls[0][0]["Host"] == f"localhost:{receiver.port}"

    async def test_tls_uses_the_host_name_for_sni_and_the_certificate(self) -> None:
        ca = trustme.CA()
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("localhost").configure_cert(server_context)
        names: list[str | None] = []

        def record_sni(sock: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
            names.append(name)

        server_context.sni_callback = record_sni
        client_context = ssl.create_default_context()
        ca.configure_trust(client_context)
        with serving(Receiver(server_context)) as receiver:
            async with webhook_client(LOOPBACK, ssl_context=client_context) as http:
                url = f"https://localhost:{receiver.port}/hook"
                response = await http.post(url, content=b"{}")
            assert response.status_code == 200
            assert names == ["localhost"]
            assert receiver.calls[0][0]["Host"] == f"localhost:{receiver.port}"


class TestRefusedWebhookCall:
    async def test_a_refused_target_is_a_final_public_address_refusal_and_is_recorded(
        self, make_lead, session_factory, receiver: Receiver
    ) -> None:
        lead = await make_lead()
        key = f"chain-{uuid.uuid4().hex}/a_00000001/1"
        config = WebhookConfig.model_validate({"url": receiver.url, "retries": 3})
        async with session_factory() as session, webhook_client() as http:
            with pytest.raises(InvalidInput) as refused:
                await chain_effects.call_webhook(
                    session, key, lead["id"], config, default_secret="x" * 8, http=http
                )
            call = await session.scalar(
                select(WebhookCall).where(WebhookCall.idempotency_key == key)
            )
        assert [(e.field, e.rule) for e in refused.value.errors] == [
            ("config.url", "public_address")
        ]
        assert receiver.calls == []
        assert call is not None and (call.status, call.attempts) == ("failed", 1)
        assert call.error is not None and "127.0.0.1 is not a public address" in call.error
