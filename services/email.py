"""Sending queued emails from the outbox: SMTP when `LEADPIPE_SMTP_URL` is set, else appended to
`<data_dir>/mail.log` as RFC 5322 messages (one `.eml` per entry, separated by a From_ line)."""

import asyncio
import smtplib
import ssl
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
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


def one_line(text: str) -> str:
    """`text` as a single header line: control and line-separator characters (CR, LF, NEL,
    U+2028...) become spaces, runs of spaces one. Names and subjects come from records that
    anyone may have typed, and a line break in a header would start a header of their own."""
    spaced = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    return " ".join(spaced.split())


def build_message(row: EmailOutboxMessage, sender: str) -> EmailMessage:
    """The RFC 5322 message for an outbox row. Raises ValueError when an address cannot be
    one (a line break, several addresses, no domain)."""
    sender_name, sender_address = parseaddr(sender)
    from_ = Address(display_name=one_line(sender_name), addr_spec=sender_address)
    message = EmailMessage()
    message["From"] = from_
    message["To"] = Address(addr_spec=row.to_address)
    message["Subject"] = one_line(row.subject)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=from_.domain or "leadpipe")
    if row.idempotency_key:
        message["X-Leadpipe-Idempotency-Key"] = one_line(row.idempotency_key)
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


@dataclass(frozen=True)
class Delivery:
    status: str
    error: str | None = None


def is_refusal(exc: BaseException) -> bool:
    """Whether the mail server refused this email for good (a 5xx to its sender, recipients
    or content), so sending it again would be refused again."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(code >= 500 for code, _ in exc.recipients.values())
    return (
        isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPDataError) and exc.smtp_code >= 500
    )


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def describe(exc: BaseException) -> str:
    """A sending error as a reader of the chain run understands it."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(
            f"{to}: {code} {_text(reply)}" for to, (code, reply) in exc.recipients.items()
        )
        return f"the mail server refused the recipient ({refused})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the mail server answered {exc.smtp_code} {_text(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}"


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
                    message = build_message(row, self._sender)
                except ValueError as exc:
                    # The same row builds the same broken message every time.
                    row.status = "failed"
                    row.error = f"the email cannot be built: {exc}"[:2000]
                    log.warning("email not sent", email_id=row.id, error=row.error)
                    continue
                try:
                    await self._deliver(message)
                except (OSError, smtplib.SMTPException, ValueError) as exc:
                    # A refusal of this email is final; other SMTP trouble gets more tries and
                    # the row fails for good after that.
                    final = is_refusal(exc) or row.attempts >= MAX_ATTEMPTS
                    row.status = "failed" if final else "queued"
                    row.error = describe(exc)[:2000]
                    log.warning("email not sent", email_id=row.id, error=row.error)
                    continue
                row.status = "sent"
                row.sent_at = datetime.now(UTC)
                row.error = None
                sent += 1
        return sent

    async def send(self, email_id: int) -> Delivery:
        """Send one queued email; returns its status afterwards (`sent`; `failed`; `queued`
        after a transient failure or when another sender holds it) and its last error. An
        email already sent is not sent again."""
        await self.send_queued(ids=[email_id], limit=1)
        async with self._sessions() as session:
            row = await chains_repo.get_email(session, email_id)
            if row is None:
                return Delivery("missing", f"email {email_id} does not exist")
            return Delivery(row.status, row.error)
