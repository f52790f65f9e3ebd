"""Chain emails: queued once per key, then sent by EmailSender to `mail.log` (the default) or to
an SMTP server (a local aiosmtpd server started here)."""

import mailbox
import socket
import uuid
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from config import Settings
from db.engine import SessionFactory
from db.models import EmailOutboxMessage
from domain.chains import SendEmailConfig
from services import chain_effects
from services.email import EmailSender, message_id

CONFIG = SendEmailConfig(subject="Hello {{contact.first_name}}", body="Hi {{contact.first_name}}!")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.rcpt_reply = "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.rcpt_reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return self.rcpt_reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


async def queued(session_factory: SessionFactory, make_lead: Any, admin: Any) -> dict[str, Any]:
    contact = await admin.ok(
        "post", "/contacts", {"first_name": "Ada", "email": "ada@example.com"}, status=201
    )
    lead = await make_lead(contact_id=contact["id"])
    key = f"chain-{uuid.uuid4().hex}/a_00000001/0"
    async with session_factory() as session:
        result: dict[str, Any] = await chain_effects.queue_email(session, key, lead["id"], CONFIG)
    return {**result, "key": key, "lead_id": lead["id"]}


class TestQueue:
    async def test_one_key_queues_one_email(self, admin, make_lead, session_factory) -> None:
        first = await queued(session_factory, make_lead, admin)
        async with session_factory() as session:
            again = await chain_effects.queue_email(session, first["key"], first["lead_id"], CONFIG)
            count = await session.scalar(
                select(func.count()).where(EmailOutboxMessage.idempotency_key == first["key"])
            )
        assert again["email_id"] == first["email_id"] and count == 1
        assert first["to"] == "ada@example.com"

    async def test_a_contact_without_an_address_is_skipped(
        self, admin, make_lead, session_factory
    ) -> None:
        lead = await make_lead()
        async with session_factory() as session:
            result = await chain_effects.queue_email(
                session, "k/" + uuid.uuid4().hex, lead["id"], CONFIG
            )
        assert result == {"skipped": "the contact has no email address"}


class TestSend:
    async def test_by_default_emails_go_to_the_mail_log(
        self, admin, make_lead, session_factory, settings: Settings, tmp_path: Path
    ) -> None:
        email = await queued(session_factory, make_lead, admin)
        sender = EmailSender(session_factory, settings.model_copy(update={"data_dir": tmp_path}))
        assert (await sender.send(email["email_id"])).status == "sent"
        log = (tmp_path / "mail.log").read_text()
        assert "Subject: Hello Ada" in log and "Hi Ada!" in log
        assert "To: ada@example.com" in log and email["key"] in log
        # Sent once: a second call finds nothing queued.
        assert (await sender.send(email["email_id"])).status == "sent"
        assert (tmp_path / "mail.log").read_text().count("Subject: Hello Ada") == 1

    async def test_with_an_smtp_url_emails_go_to_the_server(
        self, admin, make_lead, session_factory, settings: Settings, tmp_path: Path, smtp_server
    ) -> None:
        port, inbox = smtp_server
        email = await queued(session_factory, make_lead, admin)
        sender = EmailSender(
            session_factory,
            settings.model_copy(
                update={"data_dir": tmp_path, "smtp_url": f"smtp://127.0.0.1:{port}"}
            ),
        )
        assert (await sender.send(email["email_id"])).status == "sent"
        assert len(inbox.messages) == 1
        message = inbox.messages[0]
        assert message["Subject"] == "Hello Ada" and message["To"] == "ada@example.com"
        assert message["From"] == settings.mail_from
        assert "Hi Ada!" in message.get_payload()
        assert not (tmp_path / "mail.log").exists()

    async def test_an_unreachable_server_leaves_the_email_queued_with_its_error(
        self, admin, make_lead, session_factory, settings: Settings, tmp_path: Path
    ) -> None:
        email = await queued(session_factory, make_lead, admin)
        sender = EmailSender(
            session_factory,
            settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{free_port()}"}),
        )
        assert (await sender.send(email["email_id"])).status == "queued"
        async with session_factory() as session:
            row = await session.get(EmailOutboxMessage, email["email_id"])
        assert row is not None and row.attempts == 1 and row.error

    async def test_a_recipient_the_server_refuses_fails_at_once_with_its_answer(
        self, admin, make_lead, session_factory, settings: Settings, smtp_server
    ) -> None:
        port, inbox = smtp_server
        inbox.rcpt_reply = "550 5.1.1 no such user"
        email = await queued(session_factory, make_lead, admin)
        sender = EmailSender(
            session_factory, settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{port}"})
        )
        delivery = await sender.send(email["email_id"])
        assert delivery.status == "failed"
        assert delivery.error == (
            "the mail server refused the recipient (ada@example.com: 550 5.1.1 no such user)"
        )
        assert inbox.messages == []

    async def test_a_stored_address_with_a_line_break_fails_and_adds_no_header(
        self, admin, make_lead, session_factory, settings: Settings, tmp_path: Path
    ) -> None:
        email = await queued(session_factory, make_lead, admin)
        async with session_factory() as session, session.begin():
            row = await session.get(EmailOutboxMessage, email["email_id"])
            assert row is not None
            row.to_address = "ada@example.com\r\nBcc: evil@example.com"
        sender = EmailSender(session_factory, settings.model_copy(update={"data_dir": tmp_path}))
        delivery = await sender.send(email["email_id"])
        assert delivery.status == "failed"
        assert delivery.error is not None and "cannot be built" in delivery.error
        assert not (tmp_path / "mail.log").exists()


async def as_if_killed_before_the_commit(session_factory: SessionFactory, email_id: int) -> None:
    """The row as a sender killed after the hand-off leaves it: claimed, never marked sent."""
    async with session_factory() as session, session.begin():
        row = await session.get(EmailOutboxMessage, email_id)
        assert row is not None and row.status == "sent"
        row.status, row.sent_at = "sending", None


def keys_in(path: Path) -> list[str]:
    return [str(m["X-Leadpipe-Idempotency-Key"]) for m in mailbox.mbox(path, create=False)]


class TestSendOnce:
    async def test_a_retry_after_a_crash_finds_the_email_in_the_mail_log_and_writes_nothing(
        self, admin, make_lead, session_factory, settings: Settings, tmp_path: Path
    ) -> None:
        email = await queued(session_factory, make_lead, admin)
        sender = EmailSender(session_factory, settings.model_copy(update={"data_dir": tmp_path}))
        assert (await sender.send(email["email_id"])).status == "sent"
        await as_if_killed_before_the_commit(session_factory, email["email_id"])
        # A new process: nothing in memory, only the log.
        again = EmailSender(session_factory, settings.model_copy(update={"data_dir": tmp_path}))
        assert (await again.send(email["email_id"])).status == "sent"
        assert keys_in(tmp_path / "mail.log") == [email["key"]]
        async with session_factory() as session:
            row = await session.get(EmailOutboxMessage, email["email_id"])
        assert row is not None and row.attempts == 2 and row.sent_at is not None

    async def test_over_smtp_a_retry_after_a_crash_resends_with_the_same_message_id(
        self, admin, make_lead, session_factory, settings: Settings, smtp_server
    ) -> None:
        port, inbox = smtp_server
        email = await queued(session_factory, make_lead, admin)
        sender = EmailSender(
            session_factory, settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{port}"})
        )
        assert (await sender.send(email["email_id"])).status == "sent"
        await as_if_killed_before_the_commit(session_factory, email["email_id"])
        assert (await sender.send(email["email_id"])).status == "sent"
        expected = message_id(email["key"], settings.mail_from.split("@")[1])
        assert [m["Message-ID"] for m in inbox.messages] == [expected, expected]
        assert inbox.messages[0].as_bytes() == inbox.messages[1].as_bytes()

    async def test_an_email_another_sender_is_handing_over_is_left_to_it(
        self, admin, make_lead, session_factory, settings: Settings, tmp_path: Path
    ) -> None:
        email = await queued(session_factory, make_lead, admin)
        async with session_factory() as session, session.begin():
            row = await session.get(EmailOutboxMessage, email["email_id"])
            assert row is not None
            row.status, row.attempts = "sending", 1
        sender = EmailSender(session_factory, settings.model_copy(update={"data_dir": tmp_path}))
        async with session_factory() as holder, holder.begin():
            # The other sender holds its row while it hands the email over.
            await holder.get(EmailOutboxMessage, email["email_id"], with_for_update=True)
            assert (await sender.send(email["email_id"])).status == "sending"
            assert not (tmp_path / "mail.log").exists()
        # It died without writing: the next try sends it.
        assert (await sender.send(email["email_id"])).status == "sent"
        assert keys_in(tmp_path / "mail.log") == [email["key"]]
