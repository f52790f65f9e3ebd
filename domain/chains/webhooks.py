"""Webhook targets: credentials masked for readers, hosts held to the public-address rule."""

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from pydantic import AnyHttpUrl

from domain.addresses import NO_EXCEPTIONS, AllowList, host_refusal
from domain.chains.actions import Action, BranchAction, WebhookAction
from domain.chains.configs import WebhookConfig
from domain.chains.editing import walk
from domain.errors import FieldError

REDACTED = "********"
"""Shown instead of a webhook secret; sent back unchanged, it keeps the stored secret."""

# Query parameter names whose values are credentials; matched as substrings of the lower-cased
# name without `-`/`_`, so `X-Amz-Signature`, `apiKey` and `client_secret` are all caught.
SENSITIVE_PARAMS = (
    "token",
    "key",
    "secret",
    "sig",
    "password",
    "passwd",
    "pwd",
    "auth",
    "credential",
    "session",
    "code",
)


def is_sensitive_param(name: str) -> bool:
    folded = unquote_plus(name).lower().replace("-", "").replace("_", "")
    return any(word in folded for word in SENSITIVE_PARAMS)


def _mask_params(text: str) -> str:
    parts = []
    for part in text.split("&"):
        name, sep, value = part.partition("=")
        parts.append(f"{name}={REDACTED}" if sep and value and is_sensitive_param(name) else part)
    return "&".join(parts)


def mask_url(url: str) -> str:
    """`url` with its user name, password and credential-like query (or fragment) parameter
    values replaced by `********`; everything else as it was."""
    parts = urlsplit(url)
    netloc = parts.netloc
    userinfo, at, host = netloc.rpartition("@")
    if at:
        user, colon, _password = userinfo.partition(":")
        netloc = f"{REDACTED}{':' + REDACTED if colon else ''}@{host}" if user or colon else host
    return urlunsplit(
        (parts.scheme, netloc, parts.path, _mask_params(parts.query), _mask_params(parts.fragment))
    )


_URL_IN_TEXT = re.compile(r"https?://[^\s\"'<>]+")


def mask_urls_in(text: str) -> str:
    """`text` with every http(s) URL in it masked as `mask_url` does."""

    def mask(match: re.Match[str]) -> str:
        url = match.group(0)
        # Punctuation right after a URL in prose ends the sentence, not the URL.
        stripped = url.rstrip(".,;:!?)]")
        return mask_url(stripped) + url[len(stripped) :]

    return _URL_IN_TEXT.sub(mask, text)


def _masked_webhook(config: WebhookConfig) -> WebhookConfig:
    update: dict[str, Any] = {}
    if config.secret is not None:
        update["secret"] = REDACTED
    masked = mask_url(str(config.url))
    if masked != str(config.url):
        update["url"] = AnyHttpUrl(masked)
    return config.model_copy(update=update) if update else config


def redact_secrets(actions: Sequence[Action]) -> list[Action]:
    """The actions with webhook secrets hidden and credentials in webhook URLs masked: what
    readers who may not edit chains see, and all a workflow payload carries (the effect reads
    the stored action)."""
    out: list[Action] = []
    for action in actions:
        if isinstance(action, WebhookAction):
            config = _masked_webhook(action.config)
            out.append(
                action if config is action.config else action.model_copy(update={"config": config})
            )
        elif isinstance(action, BranchAction):
            config_b = action.config.model_copy(
                update={
                    "then": redact_secrets(action.config.then),
                    "else_": None
                    if action.config.else_ is None
                    else redact_secrets(action.config.else_),
                }
            )
            out.append(action.model_copy(update={"config": config_b}))
        else:
            out.append(action)
    return out


def webhook_target_errors(
    actions: Sequence[Action],
    allowed: AllowList = NO_EXCEPTIONS,
    unchanged: Sequence[Action] = (),
) -> list[FieldError]:
    """A `public_address` error at each webhook URL whose host is not public (see
    `domain.addresses.host_refusal`) and not allowed. Webhooks with the same id and URL in
    `unchanged` (the version being edited) are not judged again: an edit elsewhere in a chain
    never fails on them, and connecting to them is refused anyway."""
    kept = {
        (a.id, str(a.config.url)) for _, _, a in walk(unchanged) if isinstance(a, WebhookAction)
    }
    errors: list[FieldError] = []
    for path, _, action in walk(actions):
        if not isinstance(action, WebhookAction) or (action.id, str(action.config.url)) in kept:
            continue
        host = action.config.url.host or ""
        reason = host_refusal(host, allowed)
        if reason is not None:
            errors.append(
                FieldError(
                    f"{path}.config.url",
                    "public_address",
                    f"{host} is not a public address ({reason}); webhooks reach public hosts "
                    "only, unless LEADPIPE_WEBHOOK_ALLOWED_HOSTS lists it",
                )
            )
    return errors
