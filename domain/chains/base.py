"""The pydantic base every chain model shares."""

from pydantic import BaseModel, ConfigDict


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
