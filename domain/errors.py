"""The one error hierarchy. The API renders these as RFC 9457 problem responses."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One broken rule on one input field (`field` is a dotted path such as `deal.name`)."""

    field: str
    rule: str
    message: str


@dataclass
class LeadpipeError(Exception):
    detail: str
    errors: list[FieldError] = field(default_factory=list)

    status: int = 400
    type: str = "bad-request"
    title: str = "Bad request"

    def __str__(self) -> str:
        return self.detail


@dataclass
class NotFound(LeadpipeError):
    status: int = 404
    type: str = "not-found"
    title: str = "Not found"


@dataclass
class Conflict(LeadpipeError):
    status: int = 409
    type: str = "conflict"
    title: str = "Conflict with current state"


@dataclass
class InsightsDisabled(Conflict):
    """DEAL-9: deal insights need the account's `customer_analysis` setting on."""

    type: str = "insights-disabled"
    title: str = "Deal insights are switched off"


@dataclass
class InvalidInput(LeadpipeError):
    status: int = 422
    type: str = "validation-error"
    title: str = "Invalid input"


@dataclass
class InvalidTransition(LeadpipeError):
    """A stage move that the pipeline or the lead settings forbid."""

    status: int = 422
    type: str = "invalid-transition"
    title: str = "Stage move not allowed"


@dataclass
class Forbidden(LeadpipeError):
    status: int = 403
    type: str = "forbidden"
    title: str = "Forbidden"


@dataclass
class SeatRequired(Forbidden):
    """PERM-3: the sales workspace needs a current sales seat."""

    type: str = "seat-required"
    title: str = "A current sales seat is required"


@dataclass
class Unauthorized(LeadpipeError):
    status: int = 401
    type: str = "unauthorized"
    title: str = "Unauthorized"


@dataclass
class IdempotencyKeyReused(InvalidInput):
    """A retry key (`Idempotency-Key`, `event_id`) sent again with a different request."""

    type: str = "idempotency-key-reused"
    title: str = "Idempotency key reused with a different request"


@dataclass
class Unavailable(LeadpipeError):
    """A dependency (the database, Temporal, a webhook's receiver) did not answer: retry."""

    status: int = 503
    type: str = "unavailable"
    title: str = "Service unavailable"
    # Sent as `Retry-After`: long enough for a restart or a failover, short for a client.
    retry_after_seconds: int = 5


def invalid(field_name: str, rule: str, message: str) -> InvalidInput:
    """A 422 about one field."""
    return InvalidInput(message, [FieldError(field_name, rule, message)])


def conflict(field_name: str, rule: str, message: str) -> Conflict:
    """A 409 about one field (a value already taken)."""
    return Conflict(message, [FieldError(field_name, rule, message)])


def key_reused(field_name: str, key: str) -> IdempotencyKeyReused:
    """The 422 for a retry key whose first request had another body."""
    message = f"{field_name} {key!r} was first used with a different request"
    return IdempotencyKeyReused(
        message, [FieldError(field_name, "idempotency_key_reused", message)]
    )
