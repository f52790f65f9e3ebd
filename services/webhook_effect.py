"""The `webhook` action's effect: POST the lead snapshot, signed, at least once per key and
never again after a success under it (the receiver drops repeats by the key header)."""

import asyncio
import hashlib
import hmac
import json

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import WebhookCall
from db.repositories import chains as chains_repo
from domain.chains import ChainContext, WebhookConfig
from domain.errors import Conflict, Unavailable, invalid
from services.chain_context import build_context
from services.chain_effect_guard import Result, in_stage, left_stage
from services.webhook_transport import RefusedTarget

SIGNATURE_HEADER = "X-Leadpipe-Signature"
IDEMPOTENCY_HEADER = "X-Leadpipe-Idempotency-Key"
RESPONSE_EXCERPT = 500


def signature(secret: str, body: bytes) -> str:
    """The `X-Leadpipe-Signature` value: `sha256=` + hex HMAC-SHA256 of the exact body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _transient(status_code: int) -> bool:
    return status_code >= 500 or status_code in (408, 429)


async def call_webhook(
    session: AsyncSession,
    key: str,
    lead_id: int,
    config: WebhookConfig,
    *,
    default_secret: str | None,
    http: httpx.AsyncClient,
    context: ChainContext | None = None,
    backoff_seconds: float = 0.5,
    stage_entry_id: int | None = None,
) -> Result:
    """POST the lead snapshot as JSON, signed, trying up to 1 + `retries` times on network
    errors, 5xx, 408 and 429, through `http` (a `webhook_client`, which refuses non-public
    targets). Once a call under `key` succeeded, later calls return its result without
    POSTing. -> {"status_code", "attempts"}

    Raises Conflict (no secret; the receiver refused with another 4xx), InvalidInput
    (`public_address`: the host is or resolves to an address webhooks may not reach),
    Unavailable (still failing after the retries: retry the activity later).
    """
    async with session.begin():
        call = await chains_repo.webhook_call(session, key)
        if call is not None and call.status == "succeeded":
            return {"status_code": call.status_code, "attempts": call.attempts}
        # Checked before the call goes out; the lock ends with this transaction, so a move
        # made while the receiver answers does not wait for it.
        if await in_stage(session, lead_id, stage_entry_id) is None:
            return left_stage()
        context = context or await build_context(session, lead_id)
    secret = config.secret or default_secret
    if not secret:
        raise Conflict("set a secret on the webhook action or LEADPIPE_WEBHOOK_SECRET")
    body = json.dumps(
        {
            "idempotency_key": key,
            "lead_id": lead_id,
            "lead": context.lead,
            "contact": context.contact,
            "company": context.company,
            "owner": context.owner,
            "data": config.payload or {},
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(secret, body),
        IDEMPOTENCY_HEADER: key,
        "User-Agent": "leadpipe-webhook",
    }
    status_code: int | None = None
    excerpt: str | None = None
    error: str | None = None
    attempts = 0
    refused: RefusedTarget | None = None
    for attempt in range(config.retries + 1):
        attempts += 1
        try:
            response = await http.post(
                str(config.url), content=body, headers=headers, timeout=config.timeout_seconds
            )
            status_code, excerpt, error = response.status_code, response.text, None
            if not _transient(status_code):
                break
            error = f"HTTP {status_code}"
        except RefusedTarget as exc:
            refused, status_code, excerpt, error = exc, None, None, str(exc)
            break
        except httpx.HTTPError as exc:
            status_code, excerpt, error = None, None, f"{type(exc).__name__}: {exc}"
        if attempt < config.retries:
            await asyncio.sleep(backoff_seconds * 2**attempt)
    succeeded = status_code is not None and 200 <= status_code < 300
    async with session.begin():
        call = await chains_repo.webhook_call(session, key, for_update=True)
        if call is None:
            call = await chains_repo.add_webhook_call(
                session, WebhookCall(idempotency_key=key, url=str(config.url), status="failed")
            )
        call.status = "succeeded" if succeeded else "failed"
        call.status_code = status_code
        call.response_excerpt = excerpt[:RESPONSE_EXCERPT] if excerpt is not None else None
        call.attempts += attempts
        call.error = None if succeeded else (error or f"HTTP {status_code}")
        total = call.attempts
    if succeeded:
        return {"status_code": status_code, "attempts": total}
    if refused is not None:
        raise invalid("config.url", "public_address", str(refused))
    if status_code is not None and not _transient(status_code):
        raise Conflict(f"the webhook answered HTTP {status_code}")
    raise Unavailable(f"the webhook failed after {attempts} attempts: {error}")
