"""The pydantic base every chain model shares, and the fields every action has."""

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

ACTION_ID = re.compile(r"^a_[0-9a-f]{8}$")


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
