"""The configs of the actions that act: tasks, email, properties, deals, owners, webhooks.

`delay` and `branch` configs live in `delays` and `actions`.
"""

from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AnyHttpUrl,
    Field,
    UrlConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from domain.bounds import Instant, Line, RecordId, Text, bounded_duration, text_problem
from domain.chains.base import _Model
from domain.chains.properties import (
    PROPERTIES,
    WRITABLE_LENGTHS,
    JsonScalar,
    _check_property,
    _check_value,
)
from domain.chains.templates import Template, _check_template
from domain.tasks import TaskPriority, TaskType

MAX_DUE_IN = timedelta(days=365)
"""The furthest a created task's `due_in` reaches."""
MAX_CLOSE_IN = timedelta(days=5 * 365)
"""The furthest a created deal's `close_in` reaches."""


class CreateTaskConfig(_Model):
    title: Annotated[str, Line(300, min_length=1)] = Field(examples=["Call {{contact.first_name}}"])
    type: TaskType = TaskType.TODO
    priority: TaskPriority = TaskPriority.NONE
    due_in: Annotated[timedelta, bounded_duration(MAX_DUE_IN)] | None = Field(
        default=None, description="ISO 8601 duration, e.g. P1D; positive, at most P365D"
    )
    due_at: Instant | None = None
    notes: Template | None = None
    assignee_id: RecordId | None = Field(default=None, description="The lead owner if absent")

    @field_validator("title", "notes")
    @classmethod
    def _known_placeholders(cls, value: str | None) -> str | None:
        return value if value is None else _check_template(value)

    @model_validator(mode="after")
    def _one_due(self) -> "CreateTaskConfig":
        if self.due_in is not None and self.due_at is not None:
            raise PydanticCustomError("one_of", "give due_in or due_at, not both")
        return self


class SendEmailConfig(_Model):
    # The subject becomes a mail header: one line.
    subject: Annotated[str, Line(500, min_length=1)]
    body: Annotated[str, Text(20000, min_length=1)]
    to: Literal["contact", "owner"] = "contact"

    @field_validator("subject", "body")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        return _check_template(value)


class SetPropertyConfig(_Model):
    property: str = Field(examples=["lead.label"])
    value: JsonScalar = Field(default=None, description="null clears the property")

    @field_validator("property")
    @classmethod
    def _writable_property(cls, value: str) -> str:
        return _check_property(value, writable=True)

    @model_validator(mode="after")
    def _value_fits(self) -> "SetPropertyConfig":
        _check_value(self.property, PROPERTIES[self.property], self.value)
        if isinstance(self.value, str):
            most = WRITABLE_LENGTHS.get(self.property)
            if most is not None and len(self.value) > most:
                raise PydanticCustomError(
                    "value_length",
                    "{name} holds at most {most} characters",
                    {"name": self.property, "most": most},
                )
            problem = text_problem(self.value, single_line=True)
            if problem is not None:
                raise PydanticCustomError(problem[0], problem[1])
        return self


class CreateDealConfig(_Model):
    name: Annotated[str, Line(200, min_length=1)] = "{{lead.name}}"
    amount: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    close_in: Annotated[timedelta, bounded_duration(MAX_CLOSE_IN)] | None = Field(
        default=None, description="Close date = start + this; positive, at most P1825D"
    )
    pipeline_id: RecordId | None = Field(
        default=None, description="The default deal pipeline if absent"
    )
    stage_id: RecordId | None = Field(
        default=None, description="The pipeline's first stage if absent"
    )

    @field_validator("name")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        return _check_template(value)


class AssignOwnerConfig(_Model):
    user_id: RecordId
    only_if_unassigned: bool = False


class NotifyOwnerConfig(_Model):
    # Also an email subject when sent by email: one line.
    message: Annotated[str, Line(300, min_length=1)]
    channel: Literal["task", "email"] = Field(
        default="task", description="A to-do task for the owner, or an email to the owner"
    )

    @field_validator("message")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        return _check_template(value)


class WebhookConfig(_Model):
    url: Annotated[AnyHttpUrl, UrlConstraints(max_length=2000)] = Field(
        description="A public http(s) URL: loopback, private, link-local and other internal "
        "hosts are refused (rule `public_address`) unless LEADPIPE_WEBHOOK_ALLOWED_HOSTS lists "
        "them. Redirects are not followed; non-admins see credentials in it masked."
    )
    secret: Annotated[str, Line(200, min_length=8)] | None = Field(
        default=None,
        description="HMAC-SHA256 key; LEADPIPE_WEBHOOK_SECRET if absent",
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    retries: int = Field(default=2, ge=0, le=10)
    payload: dict[Annotated[str, Line(100)], JsonScalar] | None = Field(
        default=None, max_length=100, description="Extra fields sent under `data`"
    )
