"""Database errors read as domain errors: the one mapping from constraints to fields.

Services check what they can before writing (a clear message, no round trip wasted), but two
concurrent requests can both pass a check; the constraint then decides, and its name says which
field was at fault. Messages are built here from the constraint and the column, never from the
statement, so no SQL or parameters reach a client.
"""

import re

from psycopg import errors as pg
from sqlalchemy import exc as sa

from domain.errors import Conflict, InvalidInput, LeadpipeError, Unavailable, conflict, invalid

# Unique constraints whose field or wording the column alone does not give.
UNIQUE: dict[str, tuple[str, str]] = {
    "uq_users_email": ("email", "a user with this email already exists"),
    # A type's key is derived from its label: two types of one label collide on either.
    "uq_lead_types_key": ("label", "a lead type with this label already exists"),
    "uq_lead_types_active_label": ("label", "a lead type with this label already exists"),
    "uq_disqualification_reasons_active_label": (
        "label",
        "a disqualification reason with this label already exists",
    ),
    "uq_stages_pipeline_label": ("label", "a stage with this label already exists here"),
    "uq_pipelines_default_per_object": (
        "is_default",
        "another pipeline is already the default for this object",
    ),
    "uq_chain_versions_stage_version": (
        "stage_id",
        "the stage's chain was saved by another request meanwhile; reload it and retry",
    ),
    "uq_leads_idempotency_key": ("Idempotency-Key", "a lead with this Idempotency-Key exists"),
    "uq_activities_event_id": ("event_id", "an activity with this event_id exists"),
}

_KEY = re.compile(r"Key \((?P<columns>.*?)\)=\((?P<values>.*)\)")
_TABLE = re.compile(r'table "(?P<table>[^"]+)"')


def domain_error(exc: sa.SQLAlchemyError) -> LeadpipeError | None:
    """The domain error a database error stands for; None for one that is a bug.

    Unique violation: Conflict (409) naming the field. Foreign key violation on write:
    InvalidInput (422) naming the field and the missing record; on delete: Conflict (in use).
    Not-null, check and data errors: InvalidInput. Lost connection, refused connection, pool
    timeout, deadlock, serialization failure, statement timeout: Unavailable (503, retry).
    """
    if isinstance(exc, sa.TimeoutError | sa.DisconnectionError):
        return _unavailable()
    if not isinstance(exc, sa.DBAPIError):
        return None
    if exc.connection_invalidated or isinstance(exc, sa.OperationalError | sa.InterfaceError):
        return _unavailable()
    orig = exc.orig
    if isinstance(orig, pg.UniqueViolation):
        return _unique(orig)
    if isinstance(orig, pg.ForeignKeyViolation):
        return _foreign_key(orig)
    if isinstance(orig, pg.NotNullViolation):
        column = orig.diag.column_name or "body"
        return invalid(column, "required", f"{column} is required")
    if isinstance(orig, pg.CheckViolation):
        name = orig.diag.constraint_name or "check"
        return invalid("body", name, f"the request breaks the rule {name}")
    if isinstance(orig, pg.ExclusionViolation):
        return Conflict("the request conflicts with a stored record")
    if isinstance(orig, pg.DataError) or isinstance(exc, sa.DataError):
        # PostgreSQL's own sentence ("value ... is out of range for type integer") names the
        # rule without the statement; psycopg's, for what it refuses to send (a NUL in text),
        # is its message.
        primary = getattr(getattr(orig, "diag", None), "message_primary", None)
        if primary is None and getattr(orig, "sqlstate", None) is None:
            primary = str(orig).splitlines()[0] if str(orig) else None
        return InvalidInput(primary or "a value cannot be stored")
    return None


def constraint_name(exc: sa.DBAPIError) -> str | None:
    """The name of the constraint a database error broke, if it names one."""
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None)


def _unavailable() -> Unavailable:
    return Unavailable("the database did not answer; retry shortly")


def _unique(orig: pg.UniqueViolation) -> Conflict:
    name = orig.diag.constraint_name or ""
    if name in UNIQUE:
        field, message = UNIQUE[name]
        return conflict(field, "unique", message)
    key = _KEY.search(orig.diag.message_detail or "")
    field = key["columns"].split(",")[-1].strip() if key else "body"
    return conflict(field, "unique", f"a record with this {field} already exists")


def _foreign_key(orig: pg.ForeignKeyViolation) -> LeadpipeError:
    detail = orig.diag.message_detail or ""
    key = _KEY.search(detail)
    table = _TABLE.search(detail)
    field = key["columns"].split(",")[-1].strip() if key else "body"
    if "still referenced" in detail:
        by = table["table"].replace("_", " ") if table else "other records"
        return conflict(field, "in_use", f"the record is still referenced by {by}")
    value = key["values"] if key else "?"
    noun = _singular(table["table"]) if table else field.removesuffix("_id")
    return invalid(field, "exists", f"{noun} {value} does not exist")


def _singular(table: str) -> str:
    words = table.split("_")
    last = words[-1]
    words[-1] = last[:-3] + "y" if last.endswith("ies") else last.removesuffix("s")
    return " ".join(words)
