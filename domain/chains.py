"""Per-stage action chains (ACT-*): the action tree, its validation, edits, and planning.

A chain is an ordered list of actions; a `branch` holds two more lists (`then`, `else`). Every
action has a stable server-assigned id (`a_` + 8 hex digits) that survives edits and versions,
so comments, run steps and idempotency keys (`<workflow id>/<action id>/<seq>`) can name it.

Everything here is pure: no I/O, no clock, no randomness (ids come from a `make_id` callable),
so the stage-chain workflow can call `evaluate_condition`, `render_template`, `plan_steps` and
`resolve_delay` deterministically.
"""

import re
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeAlias
from urllib.parse import unquote_plus, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    UrlConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from domain.addresses import NO_EXCEPTIONS, AllowList, host_refusal
from domain.bounds import (
    FiniteFloat,
    Instant,
    Line,
    RecordId,
    Text,
    TimeZoneName,
    bounded_duration,
    text_problem,
)
from domain.errors import FieldError, InvalidInput, NotFound, invalid
from domain.leads import LeadLabel
from domain.lifecycle import LifecycleStage
from domain.tasks import TaskPriority, TaskType

MAX_DEPTH = 5
"""Action lists nest at most this deep (the top-level list is depth 1)."""
MAX_ACTIONS = 200
"""Actions in one chain, counting those inside branches."""

ACTION_ID = re.compile(r"^a_[0-9a-f]{8}$")

JsonScalar: TypeAlias = Annotated[str, Text(20000)] | int | FiniteFloat | bool | None

MAX_DELAY = timedelta(days=365)
"""The longest delay (`duration`, `timeout`): a chain's timers stay within a year each."""
MAX_DUE_IN = timedelta(days=365)
"""The furthest a created task's `due_in` reaches."""
MAX_CLOSE_IN = timedelta(days=5 * 365)
"""The furthest a created deal's `close_in` reaches."""


# -- Property catalogue ------------------------------------------------------------------------


class PropertyKind(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATETIME = "datetime"


# The names branches, templates and `set_property` may use: the real columns of the records a
# chain sees. `ChainContext` carries them as JSON scalars (datetimes as RFC 3339 strings).
PROPERTIES: Mapping[str, PropertyKind] = {
    "lead.id": PropertyKind.INTEGER,
    "lead.name": PropertyKind.STRING,
    "lead.label": PropertyKind.STRING,
    "lead.lead_type": PropertyKind.STRING,
    "lead.source": PropertyKind.STRING,
    "lead.owner_id": PropertyKind.INTEGER,
    "lead.pipeline_id": PropertyKind.INTEGER,
    "lead.stage_id": PropertyKind.INTEGER,
    "lead.contact_id": PropertyKind.INTEGER,
    "lead.company_id": PropertyKind.INTEGER,
    "lead.deal_id": PropertyKind.INTEGER,
    "lead.parent_lead_id": PropertyKind.INTEGER,
    "lead.auto_progression": PropertyKind.BOOLEAN,
    "lead.disqualification_reason_id": PropertyKind.INTEGER,
    "lead.created_at": PropertyKind.DATETIME,
    "contact.id": PropertyKind.INTEGER,
    "contact.first_name": PropertyKind.STRING,
    "contact.last_name": PropertyKind.STRING,
    "contact.email": PropertyKind.STRING,
    "contact.lifecycle_stage": PropertyKind.STRING,
    "contact.owner_id": PropertyKind.INTEGER,
    "contact.company_id": PropertyKind.INTEGER,
    "contact.created_at": PropertyKind.DATETIME,
    "company.id": PropertyKind.INTEGER,
    "company.name": PropertyKind.STRING,
    "company.domain": PropertyKind.STRING,
    "company.lifecycle_stage": PropertyKind.STRING,
    "company.is_target_account": PropertyKind.BOOLEAN,
    "company.owner_id": PropertyKind.INTEGER,
    "company.created_at": PropertyKind.DATETIME,
    "owner.id": PropertyKind.INTEGER,
    "owner.name": PropertyKind.STRING,
    "owner.email": PropertyKind.STRING,
    "owner.time_zone": PropertyKind.STRING,
}

# What `set_property` may change. Ids, owners and stages have their own actions or rules.
WRITABLE_PROPERTIES = frozenset(
    {
        "lead.name",
        "lead.label",
        "lead.lead_type",
        "contact.first_name",
        "contact.last_name",
        "contact.email",
        "contact.lifecycle_stage",
        "company.name",
        "company.domain",
        "company.lifecycle_stage",
        "company.is_target_account",
    }
)

# The columns `set_property` writes, as long as each may be; all of them are single lines.
WRITABLE_LENGTHS: Mapping[str, int] = {
    "lead.name": 200,
    "lead.lead_type": 50,
    "contact.first_name": 100,
    "contact.last_name": 100,
    "contact.email": 320,
    "company.name": 200,
    "company.domain": 253,
}

# Properties whose values come from a fixed list; a branch or set_property naming another
# value could never match or would store garbage.
ENUM_VALUES: Mapping[str, frozenset[str]] = {
    "lead.label": frozenset(LeadLabel),
    "lead.source": frozenset({"manual", "lifecycle_stage", "follow_up"}),
    "contact.lifecycle_stage": frozenset(LifecycleStage),
    "company.lifecycle_stage": frozenset(LifecycleStage),
}

PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


def _check_property(name: str, *, writable: bool = False) -> str:
    if name not in PROPERTIES:
        raise PydanticCustomError(
            "unknown_property",
            "unknown property {name}; use one of lead.*, contact.*, company.*, owner.* "
            "as listed in the chain documentation",
            {"name": name},
        )
    if writable and name not in WRITABLE_PROPERTIES:
        raise PydanticCustomError(
            "read_only_property",
            "{name} cannot be set by a chain; settable: {allowed}",
            {"name": name, "allowed": ", ".join(sorted(WRITABLE_PROPERTIES))},
        )
    return name


def template_names(text: str) -> list[str]:
    """The placeholder names in `text`, stripped, in order of appearance."""
    return [m.group(1).strip() for m in PLACEHOLDER.finditer(text)]


def _check_template(text: str) -> str:
    for name in template_names(text):
        if name not in PROPERTIES:
            raise PydanticCustomError(
                "unknown_placeholder",
                "unknown placeholder {{{name}}}; placeholders name a property such as "
                "{{contact.first_name}}",
                {"name": name},
            )
    return text


Template = Annotated[str, Text(20000)]


# -- Action configs ----------------------------------------------------------------------------


class _Model(BaseModel):
    # Unknown keys are mistakes worth reporting; aliases (`if`, `else`) are how configs are
    # written, so dumps use them too.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


Delay = Annotated[timedelta, bounded_duration(MAX_DELAY)]


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


DelayEvent = Literal["email_reply", "email_open", "meeting_booked"]


class DelayKind(StrEnum):
    DURATION = "duration"
    UNTIL = "until"
    TIME_OF_DAY = "time_of_day"
    UNTIL_EVENT = "until_event"


class DelayConfig(_Model):
    """Exactly one of: `duration`; `until`; `time_of_day` (+ `weekdays_only`, `time_zone`);
    `until_event` (+ `timeout`)."""

    duration: Delay | None = Field(
        default=None, examples=["P3D"], description="Positive, at most P365D"
    )
    until: Instant | None = None
    time_of_day: time | None = Field(default=None, examples=["09:00"])
    weekdays_only: bool = False
    time_zone: TimeZoneName = "UTC"
    until_event: DelayEvent | None = None
    timeout: Delay | None = Field(
        default=None, examples=["P7D"], description="Positive, at most P365D"
    )

    @field_validator("time_of_day")
    @classmethod
    def _naive_time(cls, value: time | None) -> time | None:
        if value is not None and value.tzinfo is not None:
            raise PydanticCustomError("naive_time", "give the time zone in time_zone")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> "DelayConfig":
        given = [
            k
            for k, v in (
                (DelayKind.DURATION, self.duration),
                (DelayKind.UNTIL, self.until),
                (DelayKind.TIME_OF_DAY, self.time_of_day),
                (DelayKind.UNTIL_EVENT, self.until_event),
            )
            if v is not None
        ]
        if len(given) != 1:
            raise PydanticCustomError(
                "delay_kind", "give exactly one of duration, until, time_of_day, until_event"
            )
        if self.until_event is not None and self.timeout is None:
            raise PydanticCustomError("timeout_required", "until_event needs a timeout")
        if self.until_event is None and self.timeout is not None:
            raise PydanticCustomError("timeout_unused", "timeout only goes with until_event")
        return self

    @property
    def kind(self) -> DelayKind:
        if self.duration is not None:
            return DelayKind.DURATION
        if self.until is not None:
            return DelayKind.UNTIL
        if self.time_of_day is not None:
            return DelayKind.TIME_OF_DAY
        return DelayKind.UNTIL_EVENT


Operator = Literal["eq", "neq", "in", "contains", "gt", "lt", "is_set"]
_ORDERED = frozenset({PropertyKind.INTEGER, PropertyKind.NUMBER, PropertyKind.DATETIME})


class Condition(_Model):
    property: str = Field(examples=["lead.label"])
    op: Operator
    value: JsonScalar | Annotated[list[JsonScalar], Field(max_length=100)] = None

    @field_validator("property")
    @classmethod
    def _known_property(cls, value: str) -> str:
        return _check_property(value)

    @model_validator(mode="after")
    def _value_fits(self) -> "Condition":
        kind = PROPERTIES[self.property]
        if self.op == "is_set":
            if not isinstance(self.value, bool | None):
                raise PydanticCustomError("value_type", "is_set takes true, false or nothing")
            return self
        if self.op == "in":
            if not isinstance(self.value, list) or not self.value:
                raise PydanticCustomError("value_type", "in takes a non-empty list")
            values = self.value
        elif isinstance(self.value, list):
            raise PydanticCustomError("value_type", "{op} takes one value", {"op": self.op})
        elif self.op in ("gt", "lt"):
            if kind not in _ORDERED:
                raise PydanticCustomError(
                    "op_not_supported",
                    "{op} compares numbers and times, not a {kind}",
                    {"op": self.op, "kind": kind.value},
                )
            if self.value is None:
                raise PydanticCustomError("value_type", "{op} needs a value", {"op": self.op})
            values = [self.value]
        elif self.op == "contains":
            if kind != PropertyKind.STRING or not isinstance(self.value, str):
                raise PydanticCustomError("op_not_supported", "contains looks for text in text")
            return self
        else:
            values = [self.value]
        for v in values:
            _check_value(self.property, kind, v)
        return self


def _check_value(name: str, kind: PropertyKind, value: JsonScalar) -> None:
    if value is None:
        return
    ok = {
        PropertyKind.STRING: isinstance(value, str),
        PropertyKind.INTEGER: isinstance(value, int) and not isinstance(value, bool),
        PropertyKind.NUMBER: isinstance(value, int | float) and not isinstance(value, bool),
        PropertyKind.BOOLEAN: isinstance(value, bool),
        PropertyKind.DATETIME: isinstance(value, str) and _as_datetime(value) is not None,
    }[kind]
    if not ok:
        raise PydanticCustomError(
            "value_type", "{name} is a {kind}", {"name": name, "kind": kind.value}
        )
    allowed = ENUM_VALUES.get(name)
    if allowed is not None and value not in allowed:
        raise PydanticCustomError(
            "value_choice",
            "{name} is one of {allowed}",
            {"name": name, "allowed": ", ".join(sorted(allowed))},
        )


class BranchConfig(_Model):
    if_: Condition = Field(alias="if")
    then: list["Action"] = Field(default_factory=list)
    else_: list["Action"] | None = Field(default=None, alias="else")


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


# -- Actions -----------------------------------------------------------------------------------


class Comment(_Model):
    id: int
    author_id: int | None
    text: str
    at: datetime


class _Action(_Model):
    id: str = Field(pattern=ACTION_ID.pattern, examples=["a_1f2e3d4c"])
    comments: list[Comment] = Field(
        default_factory=list, description="Read-only; post comments to .../comments"
    )


class CreateTaskAction(_Action):
    type: Literal["create_task"]
    config: CreateTaskConfig


class SendEmailAction(_Action):
    type: Literal["send_email"]
    config: SendEmailConfig


class DelayAction(_Action):
    type: Literal["delay"]
    config: DelayConfig


class BranchAction(_Action):
    type: Literal["branch"]
    config: BranchConfig


class SetPropertyAction(_Action):
    type: Literal["set_property"]
    config: SetPropertyConfig


class CreateDealAction(_Action):
    type: Literal["create_deal"]
    config: CreateDealConfig


class AssignOwnerAction(_Action):
    type: Literal["assign_owner"]
    config: AssignOwnerConfig


class NotifyOwnerAction(_Action):
    type: Literal["notify_owner"]
    config: NotifyOwnerConfig


class WebhookAction(_Action):
    type: Literal["webhook"]
    config: WebhookConfig


Action = Annotated[
    CreateTaskAction
    | SendEmailAction
    | DelayAction
    | BranchAction
    | SetPropertyAction
    | CreateDealAction
    | AssignOwnerAction
    | NotifyOwnerAction
    | WebhookAction,
    Field(discriminator="type"),
]
BranchConfig.model_rebuild()

ACTION_TYPES: frozenset[str] = frozenset(
    {
        "create_task",
        "send_email",
        "delay",
        "branch",
        "set_property",
        "create_deal",
        "assign_owner",
        "notify_owner",
        "webhook",
    }
)

_ACTIONS: TypeAdapter[list[Action]] = TypeAdapter(list[Action])


class Chain(_Model):
    """A chain version: what a run is pinned to."""

    version: int = Field(ge=0)
    actions: list[Action] = Field(default_factory=list)


class ChainContext(_Model):
    """What a chain sees of a lead: property snapshots keyed by column name (`lead["label"]`).

    Loaded by one activity at the start of a run (and again before a branch if the workflow
    wants fresh data); a missing contact, company or owner is an empty dict.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    lead: dict[str, JsonScalar] = Field(default_factory=dict)
    contact: dict[str, JsonScalar] = Field(default_factory=dict)
    company: dict[str, JsonScalar] = Field(default_factory=dict)
    owner: dict[str, JsonScalar] = Field(default_factory=dict)

    def value(self, name: str) -> JsonScalar:
        """The value of `lead.label`-style property `name`; None when unknown or unset."""
        record, _, column = name.partition(".")
        values: dict[str, JsonScalar] | None = {
            "lead": self.lead,
            "contact": self.contact,
            "company": self.company,
            "owner": self.owner,
        }.get(record)
        return None if values is None else values.get(column)


# -- Parsing and validation --------------------------------------------------------------------


def new_action_id() -> str:
    return "a_" + secrets.token_hex(4)


def assign_ids(raw: Any, make_id: Callable[[], str] = new_action_id) -> Any:
    """A copy of a raw (JSON) action list where every action without an `id` has a fresh one.

    Tolerates malformed input (validation reports it); comments are dropped because they are
    stored by action id, never inside a chain version.
    """
    if not isinstance(raw, list):
        return raw
    taken = {a.get("id") for a in _raw_walk(raw) if isinstance(a.get("id"), str)}
    return _with_ids(raw, make_id, taken)


def _with_ids(raw: list[Any], make_id: Callable[[], str], taken: set[Any]) -> list[Any]:
    out: list[Any] = []
    for item in raw:
        if not isinstance(item, dict):
            out.append(item)
            continue
        action = {k: v for k, v in item.items() if k != "comments"}
        if action.get("id") is None:
            new = make_id()
            while new in taken:
                new = make_id()
            taken.add(new)
            action["id"] = new
        config = action.get("config")
        if action.get("type") == "branch" and isinstance(config, dict):
            config = dict(config)
            for key in ("then", "else"):
                if isinstance(config.get(key), list):
                    config[key] = _with_ids(config[key], make_id, taken)
            action["config"] = config
        out.append(action)
    return out


def _raw_walk(raw: list[Any]) -> Iterator[dict[str, Any]]:
    for item in raw:
        if isinstance(item, dict):
            yield item
            config = item.get("config")
            if item.get("type") == "branch" and isinstance(config, dict):
                for key in ("then", "else"):
                    if isinstance(config.get(key), list):
                        yield from _raw_walk(config[key])


def _structure_errors(raw: list[Any], prefix: str, depth: int, seen: set[str]) -> list[FieldError]:
    """Depth, size and id uniqueness, checked on the raw tree before pydantic recurses."""
    errors: list[FieldError] = []
    for i, item in enumerate(raw):
        path = f"{prefix}.{i}"
        if not isinstance(item, dict):
            continue
        if depth > MAX_DEPTH:
            errors.append(
                FieldError(path, "too_deep", f"branches nest at most {MAX_DEPTH} levels deep")
            )
            continue
        action_id = item.get("id")
        if isinstance(action_id, str):
            if action_id in seen:
                errors.append(
                    FieldError(f"{path}.id", "duplicate_id", f"{action_id} appears twice")
                )
            seen.add(action_id)
        config = item.get("config")
        if item.get("type") == "branch" and isinstance(config, dict):
            for key in ("then", "else"):
                if isinstance(config.get(key), list):
                    errors += _structure_errors(
                        config[key], f"{path}.config.{key}", depth + 1, seen
                    )
    return errors


_RULES = {"union_tag_invalid": "unknown_type", "union_tag_not_found": "missing_type"}


def _field_errors(exc: ValidationError, prefix: str) -> list[FieldError]:
    errors = []
    for e in exc.errors():
        parts: list[str] = []
        loc = e["loc"]
        for n, part in enumerate(loc):
            # A discriminated union adds the tag after the list index; the path is the JSON's.
            if isinstance(part, str) and part in ACTION_TYPES and n and isinstance(loc[n - 1], int):
                continue
            parts.append(str(part))
        field = ".".join([prefix, *parts])
        rule = _RULES.get(e["type"], e["type"])
        message = e["msg"]
        if rule == "unknown_type":
            message = f"unknown action type; use one of {', '.join(sorted(ACTION_TYPES))}"
            field += ".type"
        elif rule == "missing_type":
            field += ".type"
        errors.append(FieldError(field, rule, message))
    return errors


def validate_chain(raw: Any, prefix: str = "actions") -> list[FieldError]:
    """Every broken rule in a raw action list, each with the dotted path to its field
    (`actions.1.config.then.0.config.duration`); empty when the chain is valid."""
    return _parse(raw, prefix)[1]


def parse_actions(raw: Any, prefix: str = "actions") -> list[Action]:
    """Validated actions from a raw list whose actions all have ids (see `assign_ids`).

    Raises InvalidInput listing every broken rule with its path.
    """
    actions, errors = _parse(raw, prefix)
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    return actions


def _parse(raw: Any, prefix: str) -> tuple[list[Action], list[FieldError]]:
    if not isinstance(raw, list):
        return [], [FieldError(prefix, "list_type", "actions must be a list")]
    errors = _structure_errors(raw, prefix, 1, set())
    if errors:
        return [], errors
    if sum(1 for _ in _raw_walk(raw)) > MAX_ACTIONS:
        return [], [FieldError(prefix, "too_many", f"a chain has at most {MAX_ACTIONS} actions")]
    try:
        return _ACTIONS.validate_python(raw), []
    except ValidationError as exc:
        return [], _field_errors(exc, prefix)


def dump_actions(actions: Sequence[Action], *, comments: bool = False) -> list[dict[str, Any]]:
    """JSON form (durations as ISO 8601, `if`/`else` keys); without comments unless asked."""
    # Unset optional fields are left out, so a stored version reads like what was written.
    dumped: list[dict[str, Any]] = _ACTIONS.dump_python(
        list(actions), mode="json", exclude_none=True
    )
    return dumped if comments else _strip_comments(dumped)


def _strip_comments(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for item in raw:
        action = {k: v for k, v in item.items() if k != "comments"}
        if action["type"] == "branch":
            config = dict(action["config"])
            for key in ("then", "else"):
                if config.get(key) is not None:
                    config[key] = _strip_comments(config[key])
            action["config"] = config
        out.append(action)
    return out


# -- Walking and editing -----------------------------------------------------------------------


def walk(
    actions: Sequence[Action], prefix: str = "actions", depth: int = 1
) -> Iterator[tuple[str, int, Action]]:
    """Every action, depth first in chain order, with its path and depth."""
    for i, action in enumerate(actions):
        path = f"{prefix}.{i}"
        yield path, depth, action
        if isinstance(action, BranchAction):
            yield from walk(action.config.then, f"{path}.config.then", depth + 1)
            if action.config.else_ is not None:
                yield from walk(action.config.else_, f"{path}.config.else", depth + 1)


def find_action(actions: Sequence[Action], action_id: str) -> Action:
    """Raises NotFound."""
    for _, _, action in walk(actions):
        if action.id == action_id:
            return action
    raise NotFound(f"action {action_id} is not in this chain")


def action_ids(actions: Sequence[Action]) -> set[str]:
    return {a.id for _, _, a in walk(actions)}


Branch = Literal["then", "else"]


def insert_action(
    actions: Sequence[Action],
    new: Mapping[str, Any],
    position: int | None = None,
    parent_id: str | None = None,
    branch: Branch = "then",
    make_id: Callable[[], str] = new_action_id,
) -> tuple[list[Action], str]:
    """A new action list with raw action `new` ({type, config}) inserted; returns it and the new
    action's id.

    At `position` in the top-level list, or in the `branch` list of branch `parent_id`; at the
    end when `position` is None (ACT-3). Raises NotFound (unknown parent), InvalidInput (parent
    is not a branch, position out of range, or an invalid action, with its path).
    """
    raw = dump_actions(actions)
    item = {k: v for k, v in new.items() if k not in ("id", "comments")}
    target = _target_list(raw, parent_id, branch)
    if position is None:
        position = len(target)
    if not 0 <= position <= len(target):
        raise invalid("position", "range", f"position must be between 0 and {len(target)}")
    target.insert(position, item)
    raw = assign_ids(raw, make_id)
    # Errors (depth included) are reported at the inserted action's real path.
    result = parse_actions(raw)
    return result, _raw_id_at(raw, parent_id, branch, position)


def _target_list(raw: list[Any], parent_id: str | None, branch: Branch) -> list[Any]:
    if parent_id is None:
        return raw
    for _, item in _raw_paths(raw, "actions"):
        if item["id"] == parent_id:
            if item["type"] != "branch":
                raise invalid(
                    "parent_action_id", "not_a_branch", f"action {parent_id} is not a branch"
                )
            config = item["config"]
            if config.get(branch) is None:
                config[branch] = []
            target: list[Any] = config[branch]
            return target
    raise NotFound(f"action {parent_id} is not in this chain")


def _raw_paths(raw: list[dict[str, Any]], prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for i, item in enumerate(raw):
        yield f"{prefix}.{i}", item
        if item["type"] == "branch":
            for key in ("then", "else"):
                if item["config"].get(key) is not None:
                    yield from _raw_paths(item["config"][key], f"{prefix}.{i}.config.{key}")


def _raw_id_at(raw: list[Any], parent_id: str | None, branch: Branch, position: int) -> str:
    target = raw
    if parent_id is not None:
        target = next(
            item["config"][branch] for _, item in _raw_paths(raw, "") if item["id"] == parent_id
        )
    new_id: str = target[position]["id"]
    return new_id


def patch_action(
    actions: Sequence[Action], action_id: str, config: Mapping[str, Any]
) -> list[Action]:
    """A new action list where `action_id`'s config has the keys of `config` (a null removes
    a key, so its default applies). A branch's `then`/`else` lists change through insert and
    delete, not here. Raises NotFound, InvalidInput (with the path of the broken field)."""
    raw = dump_actions(actions)
    for _, item in _raw_paths(raw, "actions"):
        if item["id"] != action_id:
            continue
        if item["type"] == "branch":
            for key in ("then", "else"):
                if key in config:
                    raise invalid(
                        f"config.{key}",
                        "not_patchable",
                        "add and delete actions inside a branch with the action endpoints",
                    )
        merged = dict(item["config"])
        for key, value in config.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        item["config"] = merged
        return parse_actions(raw)
    raise NotFound(f"action {action_id} is not in this chain")


class DeleteMode(StrEnum):
    ONLY = "only"
    FOLLOWING = "following"


def delete_action(
    actions: Sequence[Action], action_id: str, mode: DeleteMode = DeleteMode.ONLY
) -> list[Action]:
    """A new action list without `action_id` (ACT-6).

    `only`: the action goes and the rest of its list closes the gap; a deleted branch takes
    its `then` and `else` paths with it. `following`: the action and every action after it in
    the same list go, so inside a branch the rest of that path is cut and the actions after the
    branch stay. Raises NotFound.
    """
    result, found = _delete(list(actions), action_id, mode)
    if not found:
        raise NotFound(f"action {action_id} is not in this chain")
    return result


def _delete(actions: list[Action], action_id: str, mode: DeleteMode) -> tuple[list[Action], bool]:
    for i, action in enumerate(actions):
        if action.id == action_id:
            return (
                actions[:i] if mode == DeleteMode.FOLLOWING else actions[:i] + actions[i + 1 :]
            ), True
        if isinstance(action, BranchAction):
            then, found = _delete(action.config.then, action_id, mode)
            else_ = action.config.else_
            if not found and else_ is not None:
                else_, found = _delete(else_, action_id, mode)
            if found:
                config = action.config.model_copy(update={"then": then, "else_": else_})
                return [
                    *actions[:i],
                    action.model_copy(update={"config": config}),
                    *actions[i + 1 :],
                ], True
    return actions, False


def with_comments(
    actions: Sequence[Action], comments: Mapping[str, Sequence[Comment]]
) -> list[Action]:
    """The actions with their comments (stored by action id) filled in, oldest first."""
    out: list[Action] = []
    for action in actions:
        update: dict[str, Any] = {"comments": list(comments.get(action.id, ()))}
        if isinstance(action, BranchAction):
            config = action.config
            update["config"] = config.model_copy(
                update={
                    "then": with_comments(config.then, comments),
                    "else_": None
                    if config.else_ is None
                    else with_comments(config.else_, comments),
                }
            )
        out.append(action.model_copy(update=update))
    return out


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


# -- Templates and conditions ------------------------------------------------------------------


def _text(value: JsonScalar) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_template(text: str, context: ChainContext) -> str:
    """`text` with each `{{record.column}}` replaced by its value; a missing value (or a name
    outside the catalogue, which validation already refuses) becomes an empty string.

    Only substitution happens: no expressions, filters or nested lookups are evaluated.
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        return _text(context.value(name)) if name in PROPERTIES else ""

    return PLACEHOLDER.sub(replace, text)


def _as_datetime(value: JsonScalar) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), time())
        except ValueError:
            return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=ZoneInfo("UTC"))


def _same(actual: JsonScalar, expected: JsonScalar) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.casefold() == expected.casefold()
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    return actual == expected


def _ordered(actual: JsonScalar, expected: JsonScalar) -> tuple[Any, Any] | None:
    a_time, e_time = _as_datetime(actual), _as_datetime(expected)
    if a_time is not None and e_time is not None:
        return a_time, e_time
    numbers = (int, float)
    if (
        isinstance(actual, numbers)
        and isinstance(expected, numbers)
        and not isinstance(actual, bool)
        and not isinstance(expected, bool)
    ):
        return actual, expected
    return None


def evaluate_condition(condition: Condition, context: ChainContext) -> bool:
    """Whether `condition` holds for the context. Strings compare case-insensitively; an unset
    property equals only null, is in no list, contains nothing and is neither gt nor lt."""
    actual = context.value(condition.property)
    expected = condition.value
    op = condition.op
    if op == "is_set":
        is_set = actual is not None and actual != ""
        return is_set if expected is None or expected is True else not is_set
    if op == "eq":
        return _same(actual, expected if not isinstance(expected, list) else None)
    if op == "neq":
        return not _same(actual, expected if not isinstance(expected, list) else None)
    if op == "in":
        options = expected if isinstance(expected, list) else [expected]
        return actual is not None and any(_same(actual, o) for o in options)
    if op == "contains":
        return (
            isinstance(actual, str)
            and isinstance(expected, str)
            and expected.casefold() in actual.casefold()
        )
    pair = _ordered(actual, expected if not isinstance(expected, list) else None)
    if pair is None:
        return False
    return bool(pair[0] > pair[1]) if op == "gt" else bool(pair[0] < pair[1])


def describe_condition(condition: Condition, context: ChainContext) -> str:
    actual = context.value(condition.property)
    shown = "not set" if actual is None else repr(actual)
    if condition.op == "is_set":
        return f"{condition.property} is {shown}"
    return f"{condition.property} is {shown}; rule: {condition.op} {condition.value!r}"


# -- Delays ------------------------------------------------------------------------------------


def next_time_of_day(
    now: datetime, at: time, time_zone: str, weekdays_only: bool = False
) -> datetime:
    """The first moment after `now` (an aware datetime) when the wall clock in `time_zone`
    shows `at`, skipping Saturdays and Sundays when `weekdays_only`. Returned in that zone.

    A wall time that does not exist on a DST change day (spring forward) is moved forward by
    the gap, as zoneinfo resolves it; an ambiguous one (fall back) takes its first occurrence.
    """
    if now.tzinfo is None:
        raise ValueError("now must be time-zone aware")
    zone = ZoneInfo(time_zone)
    local = now.astimezone(zone)
    day = local.date()
    for _ in range(9):
        candidate = datetime.combine(day, at, tzinfo=zone)
        # Round-trip through UTC so a nonexistent wall time resolves to a real instant.
        candidate = candidate.astimezone(ZoneInfo("UTC")).astimezone(zone)
        if candidate > now and not (weekdays_only and day.weekday() >= 5):
            return candidate
        day += timedelta(days=1)
    raise AssertionError("unreachable: a weekday comes within a week")


def resolve_delay(config: DelayConfig, now: datetime) -> datetime:
    """When a delay starting at `now` ends; for `until_event`, when its timeout fires.
    A date in the past ends at once (`now`)."""
    kind = config.kind
    if kind == DelayKind.DURATION:
        assert config.duration is not None
        return now + config.duration
    if kind == DelayKind.UNTIL:
        assert config.until is not None
        return max(config.until, now)
    if kind == DelayKind.TIME_OF_DAY:
        assert config.time_of_day is not None
        return next_time_of_day(now, config.time_of_day, config.time_zone, config.weekdays_only)
    assert config.timeout is not None
    return now + config.timeout


# -- Planning ----------------------------------------------------------------------------------


class PlannedStep(_Model):
    """One action as a run would take it now: what it would do and why."""

    action_id: str
    type: str
    path: str = Field(description="Where the action sits, e.g. actions.1.config.then.0")
    depth: int
    would_run: bool = Field(description="False for actions on a branch path not taken")
    summary: str
    reason: str | None = None
    at: datetime = Field(description="When the step would start, counting earlier delays")
    wait: timedelta | None = Field(default=None, description="For a delay: how long it waits")
    details: dict[str, Any] = Field(default_factory=dict)


def _owner_text(user_id: int | None, context: ChainContext) -> str:
    if user_id is None:
        return "nobody (the lead has no owner)"
    if context.owner.get("id") == user_id and context.owner.get("name"):
        return f"{context.owner['name']} (user {user_id})"
    return f"user {user_id}"


def _owner_id(context: ChainContext) -> int | None:
    owner = context.lead.get("owner_id")
    return owner if isinstance(owner, int) and not isinstance(owner, bool) else None


def plan_action(action: Action, context: ChainContext, now: datetime) -> PlannedStep:
    """What one non-branch action would do at `now` (a branch gets its own entry in
    `plan_steps`)."""
    base = {"action_id": action.id, "type": action.type, "path": "", "depth": 0}
    summary: str
    details: dict[str, Any] = {}
    wait: timedelta | None = None
    reason: str | None = None
    if isinstance(action, CreateTaskAction):
        c = action.config
        assignee = c.assignee_id if c.assignee_id is not None else _owner_id(context)
        due = c.due_at if c.due_at is not None else (now + c.due_in if c.due_in else None)
        title = render_template(c.title, context)
        summary = f"create {c.type} task {title!r} for {_owner_text(assignee, context)}"
        if due is not None:
            summary += f", due {due.isoformat()}"
        reason = "assignee set on the action" if c.assignee_id is not None else "lead owner"
        details = {
            "title": title,
            "task_type": c.type,
            "priority": c.priority,
            "assignee_id": assignee,
            "due_at": due.isoformat() if due else None,
        }
    elif isinstance(action, SendEmailAction):
        c_e = action.config
        to = context.contact.get("email") if c_e.to == "contact" else context.owner.get("email")
        subject = render_template(c_e.subject, context)
        if to:
            summary = f"send email {subject!r} to {to}"
        else:
            summary = f"would fail: the {c_e.to} has no email address"
        details = {"to": to, "subject": subject, "body": render_template(c_e.body, context)}
    elif isinstance(action, DelayAction):
        c_d = action.config
        until = resolve_delay(c_d, now)
        wait = until - now
        if c_d.kind == DelayKind.UNTIL_EVENT:
            summary = f"wait for {c_d.until_event} for up to {wait}"
            reason = "continues early when the event arrives"
        elif c_d.kind == DelayKind.TIME_OF_DAY:
            summary = f"wait {wait} until {until.isoformat()}"
            reason = f"next {c_d.time_of_day} in {c_d.time_zone}" + (
                " on a weekday" if c_d.weekdays_only else ""
            )
        else:
            summary = f"wait {wait} until {until.isoformat()}"
        details = {"until": until.isoformat(), "kind": c_d.kind.value}
    elif isinstance(action, SetPropertyAction):
        c_s = action.config
        current = context.value(c_s.property)
        summary = f"set {c_s.property} to {c_s.value!r}"
        reason = f"currently {current!r}"
        details = {"property": c_s.property, "from": current, "to": c_s.value}
    elif isinstance(action, CreateDealAction):
        c_c = action.config
        name = render_template(c_c.name, context)
        summary = f"create deal {name!r}"
        if c_c.amount is not None:
            summary += f" worth {c_c.amount}"
        details = {
            "name": name,
            "amount": None if c_c.amount is None else str(c_c.amount),
            "close_date": (now + c_c.close_in).date().isoformat() if c_c.close_in else None,
        }
    elif isinstance(action, AssignOwnerAction):
        c_a = action.config
        current_owner = _owner_id(context)
        if c_a.only_if_unassigned and current_owner is not None:
            summary = f"keep owner {_owner_text(current_owner, context)}"
            reason = "only_if_unassigned and the lead has an owner"
        else:
            summary = f"assign the lead to user {c_a.user_id}"
        details = {"from": current_owner, "to": c_a.user_id}
    elif isinstance(action, NotifyOwnerAction):
        c_n = action.config
        message = render_template(c_n.message, context)
        owner = _owner_id(context)
        summary = f"notify {_owner_text(owner, context)} by {c_n.channel}: {message!r}"
        details = {"message": message, "channel": c_n.channel, "owner_id": owner}
    elif isinstance(action, WebhookAction):
        c_w = action.config
        summary = f"POST the lead as JSON to {c_w.url}"
        reason = f"signed with HMAC-SHA256, up to {c_w.retries} retries"
        details = {"url": str(c_w.url)}
    else:
        raise TypeError(f"plan a branch with plan_steps, not {action.type}")
    return PlannedStep(
        **base,
        would_run=True,
        summary=summary,
        reason=reason,
        at=now,
        wait=wait,
        details=details,
    )


def plan_steps(
    actions: Sequence[Action], context: ChainContext, now: datetime
) -> list[PlannedStep]:
    """Every action of the chain in run order, as a run starting at `now` would take it with
    `context` as its snapshot: branches are decided on the snapshot, actions on the path not
    taken are listed with `would_run=False`, and delays move the clock for later steps."""
    steps: list[PlannedStep] = []
    _plan(actions, context, now, "actions", 1, True, steps)
    return steps


def _plan(
    actions: Sequence[Action],
    context: ChainContext,
    now: datetime,
    prefix: str,
    depth: int,
    running: bool,
    steps: list[PlannedStep],
) -> datetime:
    for i, action in enumerate(actions):
        path = f"{prefix}.{i}"
        if isinstance(action, BranchAction):
            c = action.config
            holds = evaluate_condition(c.if_, context)
            taken = "then" if holds else "else"
            steps.append(
                PlannedStep(
                    action_id=action.id,
                    type=action.type,
                    path=path,
                    depth=depth,
                    would_run=running,
                    summary=f"take the {taken} path"
                    + ("" if holds or c.else_ is not None else " (empty: continue after it)"),
                    reason=describe_condition(c.if_, context),
                    at=now,
                    details={"condition": holds},
                )
            )
            end_then = _plan(
                c.then, context, now, f"{path}.config.then", depth + 1, running and holds, steps
            )
            end_else = now
            if c.else_ is not None:
                end_else = _plan(
                    c.else_,
                    context,
                    now,
                    f"{path}.config.else",
                    depth + 1,
                    running and not holds,
                    steps,
                )
            if running:
                now = end_then if holds else end_else
            continue
        step = plan_action(action, context, now).model_copy(
            update={"path": path, "depth": depth, "would_run": running}
        )
        if not running:
            step = step.model_copy(update={"reason": "on the branch path not taken"})
        steps.append(step)
        if running and step.wait is not None:
            now += step.wait
    return now
