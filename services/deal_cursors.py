"""Cursors of the deals tab (DEAL-1 to DEAL-3): the position after a deal in a sort order,
handed out with a page and read back for the next one.
"""

import base64
import binascii
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from db.models import Deal
from db.repositories import deals as deals_repo
from domain.bounds import INT_MAX
from domain.deal_properties import CATALOGUE, DealSort, parse_value
from domain.errors import InvalidInput, invalid


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def encode_cursor(sort: DealSort, deal: Deal) -> str:
    """The position after `deal` in `sort` order: the sort, its value and the deal's id."""
    raw = {
        "p": sort.property.value,
        "d": sort.direction.value,
        "v": _json_value(deals_repo.sort_value(deal, sort)),
        "i": deal.id,
    }
    text = json.dumps(raw, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, sort: DealSort) -> tuple[Any, int] | None:
    """The (value, id) a cursor holds. Raises InvalidInput (`cursor`: `format` for anything
    this API did not hand out, `sort` for a cursor of another sort order)."""
    if cursor is None:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
        if not isinstance(raw, dict) or set(raw) != {"p", "d", "v", "i"}:
            raise ValueError(raw)
        last_id = raw["i"]
        if not isinstance(last_id, int) or isinstance(last_id, bool):
            raise ValueError(raw)
        if not 0 <= last_id <= INT_MAX:
            raise ValueError(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid("cursor", "format", "cursor is not one this API returned") from None
    if (raw["p"], raw["d"]) != (sort.property.value, sort.direction.value):
        raise invalid("cursor", "sort", "the cursor was handed out for another sort order")
    if raw["v"] is None:
        return None, last_id
    try:
        return parse_value(CATALOGUE[sort.property].type, raw["v"], "cursor"), last_id
    except InvalidInput:
        raise invalid("cursor", "format", "cursor is not one this API returned") from None
