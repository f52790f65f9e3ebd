"""Log lines as operators read them: JSON when asked, plain text when redirected."""

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from logs import configure_logging


@pytest.fixture
def captured(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    # capsys stands for a redirected stdout: not a terminal, like `make run > stack.log`.
    yield capsys
    structlog.reset_defaults()
    logging.getLogger().handlers[:] = []


def emit() -> None:
    structlog.get_logger("test").info("lead moved", lead_id=7)
    logging.getLogger("uvicorn.error").warning("stdlib line")


def test_readable_lines_carry_no_colour_codes_when_not_a_terminal(
    captured: pytest.CaptureFixture[str],
) -> None:
    configure_logging(json=False)
    emit()
    out = captured.readouterr().out
    lines = out.splitlines()
    assert len(lines) == 2
    assert "lead moved" in lines[0] and "lead_id=7" in lines[0]
    assert "\x1b[" not in out


def test_json_lines_when_asked(captured: pytest.CaptureFixture[str]) -> None:
    configure_logging(json=True)
    emit()
    records = [json.loads(line) for line in captured.readouterr().out.splitlines()]
    assert records[0]["event"] == "lead moved" and records[0]["lead_id"] == 7
    assert records[1]["event"] == "stdlib line" and records[1]["level"] == "warning"
