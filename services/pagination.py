"""Keyset pagination behind an opaque cursor (`limit` default 50, max 500)."""

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from domain.bounds import EARLIEST, INT_MAX, LATEST
from domain.errors import invalid

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    after_id: int | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def page_request(limit: int, cursor: str | None) -> PageRequest:
    """Validate paging input; a cursor is only ever one this service handed out."""
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid("limit", "range", f"limit must be between 1 and {MAX_LIMIT}")
    if cursor is None:
        return PageRequest(limit=limit)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        after_id = int(value)
        if prefix != "id" or not 0 <= after_id <= INT_MAX:
            raise ValueError(raw)
        return PageRequest(limit=limit, after_id=after_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid("cursor", "format", "cursor is not one this API returned") from None


def to_page(rows: Sequence[T], request: PageRequest, id_of: Callable[[T], int]) -> Page[T]:
    """`rows` were fetched with limit + 1 so we know whether another page exists."""
    has_more = len(rows) > request.limit
    items = rows[: request.limit]
    return Page(items, encode_cursor(id_of(items[-1])) if has_more and items else None)


def encode_position(at: datetime, last_id: int) -> str:
    """A cursor for lists ordered by (a time, id): the pair of the page's last row."""
    raw = f"at|{at.astimezone(UTC).isoformat()}|{last_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_position(cursor: str | None) -> tuple[datetime, int] | None:
    """The (time, id) an `encode_position` cursor holds; None without a cursor. Raises
    InvalidInput (`cursor`, `format`) for anything this service did not hand out."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, at_text, id_text = raw.split("|")
        at, last_id = datetime.fromisoformat(at_text), int(id_text)
        if (
            prefix != "at"
            or at.tzinfo is None
            or not 0 <= last_id <= INT_MAX
            or not EARLIEST <= at.astimezone(UTC) < LATEST
        ):
            raise ValueError(raw)
        return at, last_id
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise invalid("cursor", "format", "cursor is not one this API returned") from None
