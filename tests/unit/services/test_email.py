import smtplib
from email import message_from_string

import pytest

from db.models import EmailOutboxMessage
from services.email import build_message, describe, is_refusal, one_line


def row(**fields: str) -> EmailOutboxMessage:
    values = {"to_address": "ada@example.com", "subject": "Hello", "body": "Hi", **fields}
    return EmailOutboxMessage(idempotency_key="chain-1-2-v1/a_00000001/1", **values)


class TestBuildMessage:
    @pytest.mark.parametrize("brk", ["\r\n", "\n", "\r", "\x85", "\u2028", "\x0b"])
    def test_a_line_break_in_the_subject_cannot_start_a_header(self, brk: str) -> None:
        message = build_message(row(subject=f"Hello Ada{brk}Bcc: evil@example.com"), "lp@x.test")
        parsed = message_from_string(message.as_string())
        assert parsed["Subject"] == "Hello Ada Bcc: evil@example.com"
        assert parsed["Bcc"] is None

    @pytest.mark.parametrize(
        "address", ["ada@example.com\r\nBcc: evil@example.com", "a@x.test, b@y.test", "nobody"]
    )
    def test_a_recipient_that_is_not_one_address_is_refused(self, address: str) -> None:
        with pytest.raises(ValueError):
            build_message(row(to_address=address), "lp@x.test")

    def test_the_sender_may_carry_a_display_name(self) -> None:
        message = build_message(row(), "Leadpipe <lp@x.test>")
        assert message["From"] == "Leadpipe <lp@x.test>"
        assert message["Message-ID"].endswith("@x.test>")

    def test_one_line_keeps_ordinary_text(self) -> None:
        assert one_line("  Grüße,   Ada  ") == "Grüße, Ada"


class TestSendErrors:
    def test_a_5xx_for_every_recipient_is_a_refusal_and_says_so(self) -> None:
        exc = smtplib.SMTPRecipientsRefused({"ada@example.com": (550, b"5.1.1 no such user")})
        assert is_refusal(exc)
        assert describe(exc) == (
            "the mail server refused the recipient (ada@example.com: 550 5.1.1 no such user)"
        )

    def test_a_4xx_or_a_lost_connection_is_worth_another_try(self) -> None:
        assert not is_refusal(smtplib.SMTPRecipientsRefused({"a@x.test": (451, b"try later")}))
        assert not is_refusal(smtplib.SMTPDataError(421, b"closing"))
        assert not is_refusal(smtplib.SMTPServerDisconnected("gone"))
        assert not is_refusal(ConnectionRefusedError(111, "refused"))
        assert is_refusal(smtplib.SMTPDataError(554, b"rejected"))
