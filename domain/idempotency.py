"""Fingerprints of requests, stored with their idempotency key to tell a retry from a reuse."""

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum


def fingerprint(request: Mapping[str, object]) -> str:
    """The SHA-256 of the request's fields in a canonical form (64 hex characters).

    Key order, and the zone a time is written in, do not change it: the same instant written
    as `Z` or `+02:00` is the same request.
    """
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=_canonical)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"no canonical form for {type(value).__name__}")
