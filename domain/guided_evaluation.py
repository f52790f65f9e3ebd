"""The guided-action workflow's messages and ids: one workflow per record that guided actions
read (`guided-<object>-<id>`), which evaluates the record's types and sleeps until the next
instant time alone could change a verdict (ARCHITECTURE.md, "Guided actions on timers")."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain.guided.types import ObjectKind

WORKFLOW_ID_PREFIX = "guided-"


def guided_workflow_id(kind: ObjectKind, object_id: int) -> str:
    return f"{WORKFLOW_ID_PREFIX}{kind.value}-{object_id}"


class _Message(BaseModel):
    # Through the pydantic data converter; frozen so a handler cannot change what history
    # recorded. New fields must get defaults.
    model_config = ConfigDict(frozen=True)


class GuidedObjectInput(_Message):
    """The record a guided-action workflow watches."""

    object: ObjectKind
    object_id: int
    # Evaluations before the workflow continues as new (its history stays small).
    evaluations_per_run: int = 100
    # A change arrived after the previous run's last evaluation: this run's first one is owed
    # to it (and cascades).
    pending_change: bool = False


class EvaluateObjectInput(_Message):
    object: ObjectKind
    object_id: int
    # The workflow's clock: a timer that fired at `wake_at` evaluates at that instant, and
    # tests on the time-skipping server see the skipped time.
    now: datetime
    # The record itself changed since the last evaluation: the records whose facts read it
    # are owed an evaluation too (a timer firing changes no fact).
    cascade: bool = False


class EvaluationResult(_Message):
    # The next instant at which time alone may change a verdict (a creation delay ending, a
    # window closing); None: only a change to the data can, and the workflow completes.
    wake_at: datetime | None = None
    # What the timer waits for, shown as its summary in the Temporal UI.
    wake_reason: str = ""
    # Open items listing the record after this evaluation, for the workflow's details pane.
    open_items: int = 0
    # The activity's clock when it finished. The workflow's clock stands still during the
    # workflow task the (local) evaluation runs in, so a timer measured from it alone would
    # fire late by the evaluation's duration.
    evaluated_at: datetime | None = None
