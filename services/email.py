"""Sending queued emails from the outbox: SMTP when `LEADPIPE_SMTP_URL` is set, else appended to
`<data_dir>/mail.log`, an mbox file (RFC 5322 messages, each after a `From ` line).

What one effect key's email gets, whatever crashes:
- mail log: at most one message per key. The log is checked for the key's Message-ID under an
  exclusive lock on the file before anything is written (MailLog), so a retry after a crash
  between the write and the commit finds it there and writes nothing.
- SMTP: at least once, and every copy has the same `Message-ID` (`message_id`). A server's
  250 cannot be checked afterwards, so a retry of an email left `sending` (or whose
  connection broke) sends it again; the recipient's mail system can drop the repeat by its
  Message-ID.
"""

import asyncio
import hashlib
import os
import signal
import smtplib
import ssl
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import structlog

from config import Settings
from db.engine import SessionFactory
from db.models import EmailOutboxMessage
from db.repositories import chains as chains_repo
from db.transactions import one_connection
from services.mail_log import MailLog

log = structlog.get_logger(__name__)

MAIL_LOG = "mail.log"
MAX_ATTEMPTS = 5


def one_line(text: str) -> str:
    """`text` as a single header line: control and line-separator characters (CR, LF, NEL,
    U+2028...) become spaces, runs of spaces one. Names and subjects come from records that
    anyone may have typed, and a line break in a header would start a header of their own."""
    spaced = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    return " ".join(spaced.split())


def effect_key(row: EmailOutboxMessage) -> str:
    """The key the email is sent under: its effect's, or its row's when it has none."""
    return row.idempotency_key or f"email-outbox/{row.id}"


def message_id(key: str, domain: str | None) -> str:
    """`<first 32 hex digits of sha256(key)>@<domain>`: every send of one effect carries the
    same Message-ID, which is how a receiver (and the mail log) recognises a resend."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain or 'leadpipe'}>"


def build_message(row: EmailOutboxMessage, sender: str) -> EmailMessage:
    """The RFC 5322 message for an outbox row, the same on every build (Date is when it was
    queued). Raises ValueError when an address cannot be one (a line break, several
    addresses, no domain)."""
    sender_name, sender_address = parseaddr(sender)
    from_ = Address(display_name=one_line(sender_name), addr_spec=sender_address)
    message = EmailMessage()
    message["From"] = from_
    message["To"] = Address(addr_spec=row.to_address)
    message["Subject"] = one_line(row.subject)
    # Not the clock: a resend must be the same message. A row not stored yet has no time.
    queued_at = row.created_at or datetime.now(UTC)
    message["Date"] = format_datetime(queued_at.astimezone(UTC))
    message["Message-ID"] = message_id(effect_key(row), from_.domain)
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
    """Delivers queued outbox emails, each under its effect key (see the module's guarantees).

    An email is claimed as `sending` (committed) before it is handed over and marked `sent`
    after, while its row stays locked: several senders (workers, retries) never hand one email
    over at the same time, and whoever finds it `sending` knows an earlier hand-off may have
    gone out. The mail log settles that itself; SMTP cannot, so the email is sent again with
    its Message-ID unchanged.
    """

    def __init__(self, session_factory: SessionFactory, settings: Settings) -> None:
        self._sessions = session_factory
        self._smtp_url = settings.smtp_url
        self._sender = settings.mail_from
        self._mail_log = MailLog(settings.data_dir / MAIL_LOG)
        self._crash_after_send = settings.fault_point == "after_email_send"
        self.timeout = 30.0

    @property
    def log_path(self) -> Path:
        return self._mail_log.path

    async def _deliver(self, message: EmailMessage) -> bool:
        """Hand the message over; False when the mail log already holds it."""
        if self._smtp_url:
            await asyncio.to_thread(_smtp_send, self._smtp_url, message, self.timeout)
            return True
        return await asyncio.to_thread(self._mail_log.append_once, message)

    async def send_queued(self, *, ids: Sequence[int] | None = None, limit: int = 100) -> int:
        """Send unsent emails (only `ids` if given), oldest first; returns how many were sent.
        A failure records its error, leaves the row queued for a later call and goes on; after
        MAX_ATTEMPTS the row is `failed`. Rows another sender holds are skipped."""
        async with self._sessions() as session:
            unsent = await chains_repo.unsent_email_ids(session, ids=ids, limit=limit)
        sent = 0
        for email_id in unsent:
            delivery = await self._send_one(email_id)
            sent += delivery is not None and delivery.status == "sent"
        return sent

    async def _send_one(self, email_id: int) -> Delivery | None:
        """Claim and hand over one email -> its status afterwards, or None when it was not
        this call's to send (not unsent, gone, or another sender holds it)."""
        # Two transactions in a row on one connection: one checkout for both.
        async with one_connection(self._sessions) as session:
            async with session.begin():
                row = await chains_repo.claim_email(session, email_id)
                if row is None:
                    return None
                again = row.status == "sending"
                row.status = "sending"
                row.attempts += 1
                attempt = row.attempts
                try:
                    message = build_message(row, self._sender)
                except ValueError as exc:
                    # The same row builds the same broken message every time.
                    row.status = "failed"
                    row.error = f"the email cannot be built: {exc}"[:2000]
                    log.warning("email not sent", email_id=row.id, error=row.error)
                    return Delivery(row.status, row.error)
            session.expunge_all()  # the next transaction reads the row afresh, locked
            async with session.begin():
                # Held until `sent` commits; a claim made since (attempts moved on) wins
                # instead.
                row = await chains_repo.lock_claimed_email(session, email_id, attempt)
                if row is None:
                    return None
                try:
                    written = await self._deliver(message)
                except (OSError, smtplib.SMTPException, ValueError) as exc:
                    # A refusal of this email is final; other SMTP trouble gets more tries and
                    # the row fails for good after that.
                    final = is_refusal(exc) or row.attempts >= MAX_ATTEMPTS
                    row.status = "failed" if final else "queued"
                    row.error = describe(exc)[:2000]
                    log.warning("email not sent", email_id=row.id, error=row.error)
                    return Delivery(row.status, row.error)
                if written and self._crash_after_send:
                    log.warning(
                        "fault point after_email_send: killing this process", email_id=row.id
                    )
                    os.kill(os.getpid(), signal.SIGKILL)
                if not written:
                    log.info("email already in the mail log; not written again", email_id=row.id)
                elif again and self._smtp_url:
                    log.warning(
                        "email sent again: an earlier hand-off may have gone out",
                        email_id=row.id,
                        message_id=message["Message-ID"],
                    )
                row.status = "sent"
                row.sent_at = datetime.now(UTC)
                row.error = None
                return Delivery(row.status)

    async def send(self, email_id: int) -> Delivery:
        """Send one unsent email; returns its status afterwards (`sent`; `failed`; `queued`
        after a transient failure; `sending` while another sender holds it) and its last
        error. An email already sent is not sent again."""
        # The claim finds whether it is unsent and free: no look-up before it.
        delivery = await self._send_one(email_id)
        if delivery is not None:
            return delivery
        async with self._sessions() as session:
            row = await chains_repo.get_email(session, email_id)
            if row is None:
                return Delivery("missing", f"email {email_id} does not exist")
            return Delivery(row.status, row.error)
