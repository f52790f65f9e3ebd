"""Sending queued emails from the outbox: SMTP when `LEADPIPE_SMTP_URL` is set, else appended to
`<data_dir>/mail.log` as RFC 5322 messages (one `.eml` per entry, separated by a From_ line)."""

import asyncio
import smtplib
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import structlog

from config import Settings
from db.engine import SessionFactory
from db.models import EmailOutboxMessage
from db.repositories import chains as chains_repo

log = structlog.get_logger(__name__)

MAIL_LOG = "mail.log"
MAX_ATTEMPTS = 5


def build_message(row: EmailOutboxMessage, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "leadpipe")
    if row.idempotency_key:
        message["X-Leadpipe-Idempotency-Key"] = row.idempotency_key
    message.set_content(row.body)
    return message


def _smtp_send(url: str, message: EmailMessage, timeout: float) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"LEADPIPE_SMTP_URL must be smtp:// or smtps://, not {parts.scheme}://")
    host = parts.hostname or "localhost"
    query = parse_qs(parts.query)
    smtp: smtplib.SMTP
    if parts.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(
            host, parts.port or 465, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(host, parts.port or 25, timeout=timeout)
    with smtp:
        if query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes"):
            smtp.starttls(context=ssl.create_default_context())
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)


def _append(path: Path, message: EmailMessage) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%a %b %d %H:%M:%S %Y")
    with path.open("a", encoding="utf-8") as f:
        f.write(f"From leadpipe {stamp}\n{message.as_string()}\n")


class EmailSender:
    """Delivers queued outbox emails. Each row is locked while it is sent, so several senders
    (API, workers) never send one row twice; a crash after the SMTP hand-off but before the
    commit sends it again (at least once, as SMTP itself)."""

    def __init__(self, session_factory: SessionFactory, settings: Settings) -> None:
        self._sessions = session_factory
        self._smtp_url = settings.smtp_url
        self._sender = settings.mail_from
        self._log_path = settings.data_dir / MAIL_LOG
        self.timeout = 30.0

    @property
    def log_path(self) -> Path:
        return self._log_path

    async def _deliver(self, message: EmailMessage) -> None:
        if self._smtp_url:
            await asyncio.to_thread(_smtp_send, self._smtp_url, message, self.timeout)
        else:
            await asyncio.to_thread(_append, self._log_path, message)

    async def send_queued(self, *, ids: Sequence[int] | None = None, limit: int = 100) -> int:
        """Send queued emails (only `ids` if given), oldest first; returns how many were sent.
        A failure records its error, leaves the row queued for a later call and goes on; after
        MAX_ATTEMPTS the row is `failed`."""
        sent = 0
        async with self._sessions() as session, session.begin():
            rows = await chains_repo.lock_queued_emails(session, limit=limit, ids=ids)
            for row in rows:
                row.attempts += 1
                try:
                    await self._deliver(build_message(row, self._sender))
                except (OSError, smtplib.SMTPException, ValueError) as exc:
                    # Transient SMTP trouble gets more tries; the row fails for good after that.
                    row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "queued"
                    row.error = f"{type(exc).__name__}: {exc}"[:2000]
                    log.warning("email not sent", email_id=row.id, error=row.error)
                    continue
                row.status = "sent"
                row.sent_at = datetime.now(UTC)
                row.error = None
                sent += 1
        return sent

    async def send(self, email_id: int) -> str:
        """Send one queued email; returns its status afterwards (`sent`, `failed`, or `queued`
        when another sender holds it). An email already sent is not sent again."""
        await self.send_queued(ids=[email_id], limit=1)
        async with self._sessions() as session:
            row = await chains_repo.get_email(session, email_id)
            return row.status if row else "missing"
